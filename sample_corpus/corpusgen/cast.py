"""Who is in the mailbox: Maya Brennan (the user), her company Lumenfield, its Berlin partners, her pickleball club."""

from __future__ import annotations

from corpusgen.model import BERLIN, NY, TOKYO, Person

USER = "maya"
COMPANY = "Lumenfield Labs"
CLUB = "Gowanus Pickleball Club"


def _people() -> dict[str, Person]:
    p = [
        Person("maya", "Maya Brennan", "maya@lumenfield.io", NY,
               "Best,\nMaya\n\nMaya Brennan\nHead of Operations, Lumenfield Labs\n+1 718 555 0142"),
        Person("sofia", "Sofia Alvarez", "sofia@lumenfield.io", NY, "Sofia Alvarez\nCEO, Lumenfield Labs"),
        Person("dana", "Dana Okafor", "dana@lumenfield.io", NY, "Best,\nDana Okafor\nHead of Finance"),
        Person("raj", "Raj Patel", "raj@lumenfield.io", NY, "-- \nRaj Patel | CTO | Lumenfield Labs"),
        Person("ben", "Ben Whitaker", "ben@lumenfield.io", NY, "-- \nBen\nHardware, Lumenfield Labs"),
        Person("chloe", "Chloe Nguyen", "chloe@lumenfield.io", NY,
               "Cheers,\nChloe Nguyen\nMarketing Lead\nlumenfield.io"),
        Person("katrin", "Katrin Weiß", "k.weiss@lumenfield.io", BERLIN,
               "Viele Grüße / Best regards,\nKatrin Weiß\nSales DACH, Lumenfield Labs GmbH\nBerlin"),
        Person("joerg", "Jörg Müller", "joerg.mueller@kranich-design.de", BERLIN,
               "-- \nJörg Müller\nKranich Design GmbH · Oranienstraße 185 · 10999 Berlin", "iso-8859-1"),
        Person("lea", "Léa Dubois", "lea.dubois@kranich-design.de", BERLIN,
               "Bien à vous,\nLéa Dubois\nStudio Manager, Kranich Design", "iso-8859-1"),
        Person("greg", "Gregory Hale", "greg@haleventures.com", NY,
               "Gregory Hale\nManaging Partner | Hale Ventures\n(212) 555-0199"),
        Person("tanaka", "田中 博", "tanaka@hoshizora-denki.co.jp", TOKYO, "星空電機株式会社\n田中 博", "iso-2022-jp"),
        Person("tom", "Tom Reyes", "tom.reyes@gmail.com", NY, "-- \nTom\nCaptain, Gowanus Pickleball Club"),
        Person("nadia", "Nadia Haddad", "nadia.haddad@outlook.com", NY,
               "Nadia Haddad\nSecretary, Gowanus Pickleball Club", "windows-1252"),
        Person("marcus", "Marcus Lee", "marcus.lee@gmail.com", NY, "Sent from my iPhone"),
        Person("ellen", "Ellen Brennan", "ellen.brennan@aol.com", NY, "Love,\nMom", "windows-1252"),
        Person("leasing", "DUMBO Properties Leasing", "leasing@dumboproperties.com", NY,
               "DUMBO Properties | 55 Water St, Brooklyn NY"),
        Person("club", "Gowanus Pickleball Club", "hello@gowanuspickleball.org", NY, ""),
        Person("dental", "Smile Brooklyn Dental", "noreply@smilebrooklyn.com", NY, ""),
        Person("airline", "Delta Air Lines", "DeltaAirLines@t.delta.com", NY, ""),
        Person("library", "Brooklyn Public Library", "noreply@bklynlibrary.org", NY, ""),
        Person("benefits", "Harbor Benefits", "no-reply@harborbenefits.com", NY, ""),
        Person("sam", "Sam Ortiz", "sam.ortiz@gmail.com", NY, "Sent from my phone"),
        Person("ghw", "Greenhouse Tech Weekly", "news@greenhousetechweekly.com", NY, ""),
        Person("dink", "The Dink Digest", "digest@dinkdigest.com", NY, ""),
        Person("github", "GitHub", "notifications@github.com", NY, ""),
        Person("linear", "Linear", "notifications@linear.app", NY, ""),
        Person("parcel", "Parcelly", "ship-confirm@parcelly.com", NY, ""),
        Person("proflink", "Proflink", "notify@proflink.com", NY, ""),
        Person("phish", "Lumenfield IT Helpdesk", "it-helpdesk@lumenfie1d-support.com", NY, ""),
    ]
    return {person.key: person for person in p}


PEOPLE = _people()
#: Dana also writes from her personal address, under the same display name.
DANA_GMAIL = "dana.okafor@gmail.com"
