"""Generator of the Quarry sample corpus: story, MIME building, documents, gold files, bulk mailboxes."""
