"""Planted threads from Maya's work life at Lumenfield Labs (Brooklyn) and its Berlin partners.

Every fact's `evidence` is a verbatim sentence of the message it sits in; times are on the sender's clock.
"""

from __future__ import annotations

from corpusgen.cast import DANA_GMAIL
from corpusgen.model import Cancel, Due, Ev, Move, Msg, Thread, Todo

TEAM = ("maya", "raj", "dana", "ben", "chloe")


def threads() -> list[Thread]:
    return [
        Thread("Q4 offsite at Mohonk", [
            Msg("off-1", "sofia", TEAM, "2026-09-02 10:14", style="alt", body=(
                "Hi team,\n\nThe Q4 offsite will be Thursday, October 22 and Friday, October 23 at Mohonk Mountain "
                "House in New Paltz. We'll leave Brooklyn early Thursday morning and be back Friday evening.\n\n"
                "Maya, can you book the bus for the offsite by September 18? Ideally something with Wi-Fi so Raj "
                "can keep shipping.\n\nAgenda draft to follow."), facts=(
                Ev("offsite", "Q4 offsite", "The Q4 offsite will be Thursday, October 22 and Friday, October 23 at "
                   "Mohonk Mountain House in New Paltz.", "Thursday, October 22 and Friday, October 23",
                   "2026-10-22", "2026-10-24", "Mohonk Mountain House, New Paltz", all_day=True),
                Todo("offsite-bus", "book the bus for the offsite", "maya",
                     "Maya, can you book the bus for the offsite by September 18?", "September 18", "2026-09-18"))),
            Msg("off-2", "maya", ("sofia",), "2026-09-02 11:02", reply="off-1",
                body="On it. I'll get quotes from two bus companies this week."),
            Msg("off-3", "raj", ("sofia",), "2026-09-03 09:30", reply="off-1", cc=("maya",), body=(
                "Sounds great. Vegetarian options please, and a room with a projector for the roadmap session.")),
            Msg("off-4", "sofia", TEAM, "2026-10-06 17:45", reply="off-3", style="alt", body=(
                "Team,\n\nWith the Series A closing timeline, the offsite is cancelled. I know, I was looking "
                "forward to the hiking too.\n\nMaya, please cancel the bus and the Mohonk booking.\n\nInstead we'll "
                "hold a half-day strategy session on Thursday, October 22 from 1pm to 5pm in the big conference "
                "room."), facts=(
                Cancel("offsite", "With the Series A closing timeline, the offsite is cancelled."),
                Todo("cancel-bus", "cancel the bus and the Mohonk booking", "maya",
                     "Maya, please cancel the bus and the Mohonk booking."),
                Ev("strategy", "Half-day strategy session", "Instead we'll hold a half-day strategy session on "
                   "Thursday, October 22 from 1pm to 5pm in the big conference room.",
                   "Thursday, October 22 from 1pm to 5pm", "2026-10-22 13:00", "2026-10-22 17:00",
                   "big conference room"))),
        ]),
        Thread("2027 budget", [
            Msg("bud-1", "sofia", ("dana",), "2026-09-08 09:05", cc=("maya",), body=(
                "Dana, can you send the 2027 budget draft by Monday? I'd like to go through it with Maya before "
                "the board sees it. The final budget is due to the board on November 3."), facts=(
                Todo("budget-draft", "send the 2027 budget draft", "dana",
                     "Dana, can you send the 2027 budget draft by Monday?", "Monday", "2026-09-14"),
                Due("budget-board", "final 2027 budget to the board",
                    "The final budget is due to the board on November 3.", "November 3", "2026-11-03", "dana"))),
            Msg("bud-2", "dana", ("sofia", "maya"), "2026-09-12 08:40", reply="bud-1", from_addr=DANA_GMAIL,
                sig=False, body=("Quick note from my personal account: I'm at my sister's this weekend but the "
                                 "draft will be in your inbox Monday morning.\n\nDana")),
            Msg("bud-3", "dana", ("sofia", "maya"), "2026-09-14 10:20", reply="bud-2",
                attach=("budget-2027-draft.txt",), body=(
                    "Draft attached as a text export. Headcount assumptions are in section 2; hardware COGS "
                    "assume the v3 enclosure at the Kranich quote.")),
            Msg("bud-4", "maya", ("dana", "sofia"), "2026-09-14 15:12", reply="bud-3", body=(
                "Thanks Dana. Two comments: freight is low for the Berlin expo, and support headcount should "
                "start in Q2, not Q3.")),
        ]),
        Thread("Board dinner in November", [
            Msg("bd-1", "sofia", ("maya", "dana", "raj"), "2026-10-01 16:30", cc=("greg", "ben"), style="alt",
                body=("Hi all,\n\nThe board dinner is on Wednesday, November 18 at 7:30pm at Gramercy Tavern "
                      "(42 E 20th St). Partners are welcome.\n\nBen, can you bring two of the v3 demo units to the "
                      "dinner? Greg wants to see them in person."), facts=(
                Ev("board-dinner", "Board dinner", "The board dinner is on Wednesday, November 18 at 7:30pm at "
                   "Gramercy Tavern (42 E 20th St).", "Wednesday, November 18 at 7:30pm", "2026-11-18 19:30",
                   location="Gramercy Tavern"),
                Todo("demo-units-dinner", "bring two v3 demo units to the board dinner", "ben",
                     "Ben, can you bring two of the v3 demo units to the dinner?"))),
            Msg("bd-2", "greg", ("sofia",), "2026-10-02 08:10", reply="bd-1", quote="outlook", cc=("maya",),
                body="Looking forward to it. I'll bring Miriam."),
            Msg("bd-3", "sofia", ("maya", "dana", "raj"), "2026-11-10 12:05", reply="bd-2", cc=("greg", "ben"),
                body=("Heads-up: Gramercy Tavern mixed up a private booking, so we're moving the board dinner to "
                      "Thursday, November 19, same time, same place."), facts=(
                Move("board-dinner", "we're moving the board dinner to Thursday, November 19, same time, same "
                     "place.", "Thursday, November 19", "2026-11-19 19:30"),)),
            Msg("bd-4", "maya", ("sofia",), "2026-11-10 12:30", reply="bd-3", cc=("ben",),
                body="Updated the invite. Ben, the demo units are still on for the new date."),
        ]),
        Thread("Sensor v3 Gehäuse - design review", [
            Msg("dr-1", "joerg", ("maya",), "2026-09-15 16:40", cc=("lea",), body=(
                "Hi Maya,\n\nthe enclosure renderings are ready. Can we do the design review on Tuesday, "
                "September 22 at 16:00 our time (10:00 for you)? I'll send a Zoom link.\n\nMaya, could you send us "
                "the final enclosure dimensions by Friday? We need them to finish the mould drawings.\n\nGrüße "
                "aus Kreuzberg"), facts=(
                Ev("design-review", "Sensor v3 design review with Kranich", "Can we do the design review on "
                   "Tuesday, September 22 at 16:00 our time (10:00 for you)?", "Tuesday, September 22 at 16:00",
                   "2026-09-22 16:00", location="Zoom"),
                Todo("enclosure-dims", "send Kranich the final enclosure dimensions", "maya",
                     "Maya, could you send us the final enclosure dimensions by Friday?", "Friday", "2026-09-18"))),
            Msg("dr-2", "maya", ("joerg",), "2026-09-15 11:05", reply="dr-1", cc=("lea",),
                body="Tuesday at 10 works for me. Dimensions are coming on Thursday."),
            Msg("dr-3", "joerg", ("maya",), "2026-09-16 09:12", reply="dr-2",
                subject="Einladung: Sensor v3 design review", attach=("design-review.ics",), quote=None,
                body="Invitation attached, Zoom link inside. Bis Dienstag!"),
        ]),
        Thread("Handoff of the v3 design files", [
            Msg("ho-1", "joerg", ("maya",), "2026-10-20 11:20", cc=("lea",), body=(
                "Hi Maya,\n\nwe're nearly done. Let's have the handoff call next Tuesday at 15:00 Berlin time. Note "
                "that we switch to winter time on Sunday, so that is 10:00 in New York.\n\nLéa will walk you "
                "through the file structure."), facts=(
                Ev("handoff", "Kranich design handoff call", "Let's have the handoff call next Tuesday at 15:00 "
                   "Berlin time.", "next Tuesday at 15:00", "2026-10-27 15:00"),)),
            Msg("ho-2", "maya", ("joerg",), "2026-10-20 08:02", reply="ho-1", cc=("lea",),
                body="Works for me. Could Léa also show the icon set there?"),
            Msg("ho-3", "lea", ("maya",), "2026-10-20 15:30", reply="ho-2", cc=("joerg",), body=(
                "Bonjour Maya,\n\nyes of course. The final icon set is due Friday, October 30. I'll bring a "
                "preview on Tuesday."), facts=(
                Due("icon-set", "final icon set from Kranich", "The final icon set is due Friday, October 30.",
                    "Friday, October 30", "2026-10-30", "lea"),)),
        ]),
        Thread("Rechnung KD-2026-114 / Invoice", [
            Msg("inv-1", "lea", ("maya", "dana"), "2026-11-02 10:15", style="alt", attach=("KD-2026-114.pdf",),
                charset="utf-8", body=(
                    "Dear Maya, dear Dana,\n\nplease find attached our invoice KD-2026-114 for the v3 enclosure "
                    "design (€18.400,00). Payment is due November 15.\n\nMerci et à bientôt"), facts=(
                Due("kranich-invoice", "payment of Kranich invoice KD-2026-114", "Payment is due November 15.",
                    "November 15", "2026-11-15", "dana"),)),
            Msg("inv-2", "maya", ("dana",), "2026-11-02 08:30", reply="inv-1", quote="outlook", body=(
                "Dana, could you schedule the Kranich payment this week? They've been great, let's not be late."),
                facts=(Todo("kranich-payment", "schedule the Kranich invoice payment", "dana",
                            "Dana, could you schedule the Kranich payment this week?"),)),
            Msg("inv-3", "dana", ("maya",), "2026-11-04 14:00", reply="inv-2", quote="outlook",
                body="Scheduled. The remittance advice will go to Léa directly."),
        ]),
        Thread("GreenTech Expo Berlin – booth confirmed", [
            Msg("ex-1", "katrin", ("maya", "ben"), "2026-09-09 14:30", cc=("chloe",), style="alt", body=(
                "Hi all,\n\ngreat news: our booth is confirmed. GreenTech Expo runs 4–6 November at Messe Berlin, "
                "Hall 21, stand 21-B14.\n\nBen, please ship the demo units to the Berlin office by 23 October so "
                "customs has time."), facts=(
                Ev("expo", "GreenTech Expo Berlin", "GreenTech Expo runs 4–6 November at Messe Berlin, Hall 21, "
                   "stand 21-B14.", "4–6 November", "2026-11-04", "2026-11-07", "Messe Berlin, Hall 21",
                   all_day=True),
                Todo("ship-demo", "ship the demo units to the Berlin office", "ben", "Ben, please ship the demo "
                     "units to the Berlin office by 23 October so customs has time.", "23 October", "2026-10-23"))),
            Msg("ex-2", "ben", ("katrin",), "2026-09-09 09:50", reply="ex-1", cc=("maya", "chloe"),
                body="Will do. FedEx is booked for the week of the 12th."),
            Msg("ex-3", "katrin", ("maya", "ben"), "2026-10-29 17:05", reply="ex-2", cc=("chloe", "dana"),
                attach=("booth-render.png",), body=(
                    "Quick update with the booth render attached.\n\nBooth setup is Tuesday 3 November from 14:00 to "
                    "18:00, so Maya, your flight lands just in time. Dana, please approve the booth invoice by "
                    "Friday."), facts=(
                Ev("booth-setup", "Expo booth setup", "Booth setup is Tuesday 3 November from 14:00 to 18:00",
                   "Tuesday 3 November from 14:00 to 18:00", "2026-11-03 14:00", "2026-11-03 18:00",
                   "Messe Berlin, Hall 21"),
                Todo("booth-invoice", "approve the booth invoice", "dana",
                     "Dana, please approve the booth invoice by Friday.", "Friday", "2026-10-30"))),
        ]),
        Thread("Firmware candidate: Ana Costa", [
            Msg("iv-1", "raj", ("maya",), "2026-09-21 16:45", body=(
                "Maya,\n\nInterview with Ana Costa tomorrow at 11am in the small conference room. Can you do the "
                "culture part for 30 minutes at the end?\n\nAlso, Maya, please send the offer letter template by "
                "EOD Wednesday so we're ready if it goes well."), facts=(
                Ev("interview-ana", "Interview with Ana Costa", "Interview with Ana Costa tomorrow at 11am in the "
                   "small conference room.", "tomorrow at 11am", "2026-09-22 11:00", location="small conference room"),
                Todo("offer-template", "send the offer letter template", "maya", "Maya, please send the offer "
                     "letter template by EOD Wednesday so we're ready if it goes well.", "EOD Wednesday",
                     "2026-09-23 17:00"))),
            Msg("iv-2", "maya", ("raj",), "2026-09-21 17:30", reply="iv-1", threaded=False,
                body="Yes, I'll join at 11:30 for the culture part."),
        ]),
        Thread("Lease renewal – 55 Water St, Suite 412", [
            Msg("ls-1", "leasing", ("maya",), "2026-09-10 13:00", style="html", body=(
                "Dear Ms. Brennan,\n\nYour lease for Suite 412 expires on December 31, 2026. The signed renewal "
                "paperwork is due by the end of the month. Please return it via DocuSign.\n\nKind regards,\n"
                "Leasing Team"), facts=(
                Due("lease", "signed lease renewal paperwork", "The signed renewal paperwork is due by "
                    "the end of the month.", "the end of the month", "2026-09-30", "maya"),)),
            Msg("ls-2", "maya", ("leasing",), "2026-09-28 09:15", reply="ls-1",
                body="Signed and returned via DocuSign today. Thanks!"),
        ]),
        Thread("All-hands next Friday", [
            Msg("ah-1", "sofia", (*TEAM, "katrin"), "2026-10-02 11:30", body=(
                "Hi everyone, all-hands next Friday at 4pm in the kitchen, pizza provided. Katrin will dial in from "
                "Berlin (that's 22:00 for her, so let's keep it to 45 minutes)."), facts=(
                Ev("all-hands", "All-hands meeting", "all-hands next Friday at 4pm in the kitchen, pizza provided.",
                   "next Friday at 4pm", "2026-10-09 16:00", "2026-10-09 16:45", "office kitchen"),)),
        ]),
        Thread("SOC 2 evidence package", [
            Msg("soc-1", "raj", ("maya", "ben"), "2026-10-13 09:40", body=(
                "The SOC 2 evidence package is due by EOD Friday. Ben, can you export the access logs by Thursday? "
                "Maya, I need the vendor list and the onboarding checklist."), facts=(
                Due("soc2", "SOC 2 evidence package", "The SOC 2 evidence package is due by EOD Friday.",
                    "EOD Friday", "2026-10-16 17:00", "raj"),
                Todo("access-logs", "export the access logs", "ben",
                     "Ben, can you export the access logs by Thursday?", "Thursday", "2026-10-15"),
                Todo("vendor-list", "send Raj the vendor list and the onboarding checklist", "maya",
                     "Maya, I need the vendor list and the onboarding checklist."))),
            Msg("soc-2", "ben", ("raj", "maya"), "2026-10-14 15:20", reply="soc-1",
                body="Logs exported to the audit folder."),
        ]),
        Thread("Our 1:1", [
            Msg("oo-1", "raj", ("maya",), "2026-09-23 10:00", body=(
                "Our 1:1 is Monday, September 28 at 2pm. I'd like to talk about the hiring plan."), facts=(
                Ev("one-on-one", "1:1 with Raj", "Our 1:1 is Monday, September 28 at 2pm.",
                   "Monday, September 28 at 2pm", "2026-09-28 14:00"),)),
            Msg("oo-2", "raj", ("maya",), "2026-09-25 13:10", reply="oo-1", body=(
                "Sorry, board prep is eating Monday. Can we push our 1:1 to Tuesday at 3pm instead?"), facts=(
                Move("one-on-one", "Can we push our 1:1 to Tuesday at 3pm instead?", "Tuesday at 3pm",
                     "2026-09-29 15:00"),)),
            Msg("oo-3", "maya", ("raj",), "2026-09-25 13:40", reply="oo-2", body="Tuesday 3pm is fine."),
        ]),
        Thread("Site visit at Brooklyn Grange", [
            Msg("sv-1", "chloe", ("maya",), "2026-10-14 15:20", body=(
                "Site visit at Brooklyn Grange (Navy Yard) this Saturday at 10am. They want to see the soil sensors "
                "in action. Can you come?"), facts=(
                Ev("site-visit", "Site visit at Brooklyn Grange", "Site visit at Brooklyn Grange (Navy Yard) this "
                   "Saturday at 10am.", "this Saturday at 10am", "2026-10-17 10:00",
                   location="Brooklyn Grange, Navy Yard"),)),
            Msg("sv-2", "maya", ("chloe",), "2026-10-14 16:02", reply="sv-1",
                body="Count me in. I'll bring the spare gateway."),
        ]),
        Thread("Webinar: Sensors in the Soil", [
            Msg("wb-1", "chloe", ("maya", "raj", "sofia"), "2026-10-19 10:00", style="alt", body=(
                "Hi all,\n\nOur webinar “Sensors in the Soil” goes live on Wednesday, November 4 at 1pm ET. Raj "
                "presents the tech, I host.\n\nMaya, your ops slides are due October 28. Raj, could you update the "
                "pricing page before the webinar?"), facts=(
                Ev("webinar", "Sensors in the Soil webinar", "goes live on Wednesday, November 4 at 1pm ET.",
                   "Wednesday, November 4 at 1pm ET", "2026-11-04 13:00", location="online"),
                Todo("ops-slides", "send the ops slides for the webinar", "maya",
                     "Maya, your ops slides are due October 28.", "October 28", "2026-10-28"),
                Todo("pricing-page", "update the pricing page before the webinar", "raj",
                     "Raj, could you update the pricing page before the webinar?"))),
            Msg("wb-2", "raj", ("chloe",), "2026-10-19 11:15", reply="wb-1", cc=("maya", "sofia"),
                body="On it. New prices go live the morning of the webinar."),
        ]),
        Thread("Expense reports", [
            Msg("exp-1", "dana", TEAM[:1] + ("raj", "ben", "chloe", "sofia"), "2026-09-28 08:30", body=(
                "Hi all,\n\nReminder: September expense reports are due October 5. Receipts in Expensify, please."),
                facts=(Due("expenses-sep", "September expense reports", "Reminder: September expense reports are "
                           "due October 5.", "October 5", "2026-10-05"),)),
        ]),
        Thread("Coffee?", [
            Msg("cf-1", "greg", ("maya",), "2026-10-13 18:20", body=(
                "Maya,\n\nLet's meet for coffee on Monday, October 19 at 8:30am at Café Grumpy in Chelsea. I want "
                "to hear how operations scale in the Series A plan."), facts=(
                Ev("coffee-greg", "Coffee with Gregory Hale", "Let's meet for coffee on Monday, October 19 at "
                   "8:30am at Café Grumpy in Chelsea.", "Monday, October 19 at 8:30am", "2026-10-19 08:30",
                   location="Café Grumpy, Chelsea"),)),
            Msg("cf-2", "maya", ("greg",), "2026-10-13 20:45", reply="cf-1", body="Perfect, see you there."),
            Msg("cf-3", "greg", ("maya",), "2026-10-16 19:02", reply="cf-2", quote="outlook", body=(
                "Something came up on Monday. Can we move coffee to Wednesday, October 21, same time and place?"),
                facts=(Move("coffee-greg", "Can we move coffee to Wednesday, October 21, same time and place?",
                            "Wednesday, October 21", "2026-10-21 08:30"),)),
            Msg("cf-4", "maya", ("greg",), "2026-10-16 21:10", reply="cf-3", body="Wednesday works."),
        ]),
        Thread("部品出荷のご案内 (sensor parts shipment)", [
            Msg("tk-1", "tanaka", ("maya",), "2026-10-08 10:00", body=(
                "ブレナン様\n\nいつもお世話になっております。\nご注文のセンサー部品は10月12日に出荷いたします。\n"
                "到着は10月20日頃の予定です。\n\nよろしくお願いいたします。")),
            Msg("tk-2", "maya", ("tanaka",), "2026-10-08 07:30", reply="tk-1", charset="utf-8",
                body="Thank you, Tanaka-san! We will watch for the delivery around October 20."),
        ]),
        Thread("Lunch & learn: LoRaWAN range testing", [
            Msg("ll-1", "raj", TEAM[:1] + ("dana", "ben", "chloe", "sofia"), "2026-09-14 12:00", body=(
                "Lunch & learn on LoRaWAN range testing, Wednesday, September 16 at 12:30pm in the kitchen. Bring "
                "questions, I'll bring dumplings."), facts=(
                Ev("lunch-learn", "Lunch & learn on LoRaWAN range testing", "Lunch & learn on LoRaWAN range "
                   "testing, Wednesday, September 16 at 12:30pm in the kitchen.", "Wednesday, September 16 at 12:30pm",
                   "2026-09-16 12:30", location="office kitchen"),)),
        ]),
        Thread("Call mit Stadtwerke München", [
            Msg("sw-1", "katrin", ("maya",), "2026-09-24 09:15", body=(
                "Hi Maya,\n\nthe call with Stadtwerke München is on 29 September at 11:00 (Berlin). Could you join "
                "for the logistics questions? It would be 5am for you, so no pressure: I can record it."), facts=(
                Ev("swm-call", "Call with Stadtwerke München", "the call with Stadtwerke München is on 29 September "
                   "at 11:00 (Berlin).", "29 September at 11:00", "2026-09-29 11:00"),)),
            Msg("sw-2", "maya", ("katrin",), "2026-09-24 07:40", reply="sw-1",
                body="Please record it, I'll watch it with coffee."),
        ]),
        Thread("Demo bei Gärtnerei Schulz", [
            Msg("gs-1", "katrin", ("maya", "ben"), "2026-11-09 16:00", body=(
                "Hi both,\n\nDemo for Gärtnerei Schulz on Thursday, 12 November at 10:00 in Potsdam. They grow "
                "orchids and want humidity alerts."), facts=(
                Ev("schulz-demo", "Demo for Gärtnerei Schulz", "Demo for Gärtnerei Schulz on Thursday, 12 November "
                   "at 10:00 in Potsdam.", "Thursday, 12 November at 10:00", "2026-11-12 10:00", location="Potsdam"),)),
        ]),
        Thread("November investor update", [
            Msg("iu-1", "sofia", ("maya",), "2026-11-05 09:00", body=(
                "The investor update goes out Friday, November 13. Maya, I need the ops numbers by Tuesday the 10th: "
                "shipments, returns, support tickets."), facts=(
                Due("investor-update", "November investor update", "The investor update goes out Friday, "
                    "November 13.", "Friday, November 13", "2026-11-13", "sofia"),
                Todo("ops-numbers", "send Sofia the ops numbers for the investor update", "maya",
                     "Maya, I need the ops numbers by Tuesday the 10th", "Tuesday the 10th", "2026-11-10"))),
            Msg("iu-2", "maya", ("sofia",), "2026-11-09 18:20", reply="iu-1",
                body="Numbers are in the shared sheet. Returns are down 30%."),
        ]),
        Thread("Firmware freeze", [
            Msg("fw-1", "ben", ("raj", "maya"), "2026-09-28 11:00", body=(
                "Heads up: firmware freeze is Friday, October 2. After that only blocker fixes go in."), facts=(
                Due("fw-freeze", "v3 firmware freeze", "firmware freeze is Friday, October 2.",
                    "Friday, October 2", "2026-10-02", "ben"),)),
        ]),
        Thread("Press release embargo", [
            Msg("pr-1", "chloe", ("maya", "sofia"), "2026-11-12 14:00", body=(
                "Press release embargo lifts Tuesday, November 17 at 9am ET. Please don't post anything before then."),
                facts=(Ev("press-release", "Press release embargo lift", "Press release embargo lifts Tuesday, "
                          "November 17 at 9am ET.", "Tuesday, November 17 at 9am ET", "2026-11-17 09:00"),)),
        ]),
        Thread("November payroll cutoff", [
            Msg("py-1", "dana", ("maya",), "2026-11-16 10:00", body=(
                "Because of Thanksgiving, the November payroll cutoff is Wednesday, November 25 at noon. Any "
                "timesheet changes after that roll into December."), facts=(
                Due("payroll-cutoff", "November payroll cutoff", "the November payroll cutoff is Wednesday, "
                    "November 25 at noon.", "Wednesday, November 25 at noon", "2026-11-25 12:00", "dana"),)),
        ]),
        Thread("Server maintenance this weekend", [
            Msg("mt-1", "raj", TEAM[:1] + ("dana", "ben", "chloe", "sofia"), "2026-11-18 16:00", body=(
                "Server maintenance window Saturday, November 21 from 10pm to midnight. The customer dashboard "
                "will be down."), facts=(
                Ev("maintenance", "Server maintenance window", "Server maintenance window Saturday, November 21 from "
                   "10pm to midnight.", "Saturday, November 21 from 10pm to midnight", "2026-11-21 22:00",
                   "2026-11-22 00:00"),)),
        ]),
    ]
