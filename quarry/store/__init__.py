"""The DuckDB fact store: schema, migrations, connections, typed rows, the SQL guard."""
