"""Write assets/demo/support_tickets.csv: 600 synthetic customer-support tickets.

Every sentence fragment below was written for this project (no external data set is
used or copied). Tickets are composed from hand-written templates per label: an
optional greeting, one or two "core" sentences that carry the meaning, optional
context shared by all labels, and an optional closing line. Slots such as {feature},
{amount} or {error} are filled at random and "[a|b|c]" picks one alternative, so the
same phrase rarely repeats. Some cores are deliberately ambiguous (a crash during
checkout, a login button that does nothing) or vague, and some tickets tack a short
second topic onto the main one ("Also, ..."); every ticket is labelled by what the
customer mainly asks for. The random seed is fixed, so running this script is reproducible:

    python assets/demo/make_support_tickets.py

Python standard library only.
"""

from __future__ import annotations

import csv
import random
import re
from pathlib import Path

SEED = 20240611
OUT = Path(__file__).resolve().parent / "support_tickets.csv"

# label -> number of tickets (roughly balanced, deliberately not equal)
COUNTS = {"billing": 168, "bug": 161, "feature_request": 142, "account": 129}

PRODUCTS = ["web", "ios", "android", "desktop", "api"]
PRODUCT_WEIGHTS = [34, 18, 18, 14, 16]
CHANNELS = ["email", "chat", "phone", "form"]
CHANNEL_WEIGHTS = [34, 30, 12, 24]

# --------------------------------------------------------------------------- slots

APP = {
    "web": ["the web app", "the website", "the dashboard", "your site", "the browser version", "the web version"],
    "ios": ["the iOS app", "the iPhone app", "the app on my iPhone", "the iPad app", "the app"],
    "android": ["the Android app", "the app on my Pixel", "the app on my Samsung", "the Android version", "the app"],
    "desktop": ["the desktop app", "the Windows client", "the Mac app", "the desktop client", "the desktop version"],
    # API customers mostly meet the product through its developer portal
    "api": ["the developer portal", "the API console", "the developer dashboard", "the dev portal", "the API portal"],
}
DEVICE = {
    "web": ["Chrome", "Firefox", "Safari", "Edge", "Chrome on a Chromebook", "Firefox on Linux"],
    "ios": ["iOS 17.4", "an iPhone 13", "iPhone 15 Pro", "an iPad Air", "iOS 16", "an iPhone SE"],
    "android": ["Android 14", "a Pixel 7", "a Galaxy S23", "Android 12", "a OnePlus 9", "a Xiaomi tablet"],
    "desktop": ["Windows 11", "macOS Sonoma", "Windows 10", "an M2 MacBook", "Ubuntu 22.04", "macOS Ventura"],
    "api": ["the Python SDK", "the Node client", "plain curl", "our Go service", "Postman", "a Java backend"],
}
FEATURE = {
    "any": [
        "the export", "search", "the calendar view", "the notifications panel", "the reports page",
        "file upload", "the share dialog", "the comment box", "the tag picker", "the editor",
        "the activity feed", "the kanban board", "CSV import", "the dashboard", "the project list",
        "the attachment viewer", "the reminder screen", "the template gallery", "the invite screen",
        "the inbox", "the filter panel", "the timeline", "the label editor", "the settings page",
        "the task list", "the sidebar", "the print preview", "the image preview", "the home screen",
    ],
    "api": [
        "the /v2/orders endpoint", "the webhook delivery", "the /items pagination", "the bulk import endpoint",
        "the search endpoint", "OAuth token refresh", "the /reports endpoint", "the rate limiter",
        "the events stream", "the batch API", "the /users endpoint", "the export job endpoint",
    ],
}
NEWTHING = [
    "dark mode", "a dark theme", "keyboard shortcuts", "an offline mode", "bulk editing",
    "recurring tasks", "a Gantt chart view", "export to Excel", "export to PDF", "custom fields",
    "a Slack integration", "a Zapier integration", "Google Calendar sync", "an undo button",
    "sub-tasks", "a way to pin projects", "markdown support in comments", "larger font options",
    "a widget for the home screen", "a Linux version", "better accessibility for screen readers",
    "multi-language support", "a read-only guest role", "saved filters", "time tracking",
    "two-way Outlook sync", "custom email templates", "a public status page", "version history",
    "drag and drop reordering", "a compact list view", "audit logs", "an Apple Watch app",
    "Spanish translation", "emoji reactions", "automatic backups", "a print-friendly view",
]
NEWTHING_API = [
    "a GraphQL endpoint", "webhook retries", "higher rate limits", "an official Ruby SDK",
    "idempotency keys", "a sandbox environment", "bulk delete endpoint", "filtering by updated_at",
    "OpenAPI 3.1 specs", "cursor-based pagination", "a webhook for deleted records",
]
ERROR = {
    "any": [
        '"Something went wrong"', '"Error 500"', '"Unexpected error, please try again"', "a blank white screen",
        '"Request failed"', '"Oops! We hit a snag"', '"Network error"', "error code E-1042", '"null"',
        '"Unable to load data"', "error 0x80070005", '"Session expired"', "a spinning wheel forever",
    ],
    "api": [
        "HTTP 500", "a 502 Bad Gateway", '"invalid_request"', "a 504 timeout", "a 422 with an empty body",
        "HTTP 409 Conflict", '"internal_error"', "a malformed JSON response",
    ],
}
AMOUNT = ["$9.99", "$12", "$19.00", "$29", "$49.99", "$79", "$120", "$240", "$15.50", "€30", "€89", "£25",
          "$4.99", "$199", "$360", "$58.80", "€12.99", "£110", "$1,200", "$35"]
PLAN = ["Pro", "Basic", "Team", "Business", "Premium", "Starter", "Enterprise", "Plus"]
PLAN_PAID = ["Pro", "Team", "Business", "Premium", "Plus"]
PAYMENT = ["Visa", "Mastercard", "Amex", "PayPal", "Apple Pay", "Google Pay", "debit card", "company card",
           "bank transfer", "SEPA direct debit"]
DATE = ["yesterday", "last week", "this morning", "on Monday", "on the 3rd", "two days ago", "last month",
        "on March 14", "over the weekend", "on the 1st", "three weeks ago", "on June 2",
        "earlier today", "last night", "on the 28th"]
SINCE = ["yesterday", "last week", "Monday", "the 3rd", "Friday", "the weekend", "this morning", "last night",
         "June 2", "the last update", "two weeks ago", "the 1st", "Tuesday", "three days ago"]
MONTH = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
         "October", "November", "December"]
NUM = ["2", "3", "4", "5", "6", "8", "10", "12", "15", "20", "25", "40"]
NAME = ["Maria", "Tom", "Priya", "Jonas", "Aiko", "Carlos", "Fatima", "Liam", "Chen", "Olga", "Sam",
        "Nadia", "Peter", "Grace", "Diego", "Hannah", "Kwame", "Ines", "Mark", "Yusuf"]
FORMAT = ["Excel", "PDF", "JSON", "Google Sheets", "CSV with UTF-8", "Markdown", "iCal"]

# --------------------------------------------------------------------------- shared pieces

GREETING = {
    "email": ["Hi,", "Hello,", "Dear support team,", "Hi there,", "Hello team,", "Good morning,",
              "Good afternoon,", "Dear Sir or Madam,", "Hi support,", "To whom it may concern,"],
    "chat": ["hi", "hey", "hello", "Hi!", "hey there", "hi, quick one", "Hello?", "yo", "hi team"],
    "phone": ["Caller said:", "Customer called in:", "Phone call, customer reports:",
              "Call notes:", "From a phone call:"],
    "form": ["", "", "Hello,", "Hi,", "Support request:", "Hi team,"],
}
SIGNOFF = {
    "email": ["Thanks,", "Best regards,", "Kind regards,", "Thank you,", "Cheers,", "Regards,", "Many thanks,"],
    "chat": [],
    "phone": [],
    "form": ["Thanks", "Thank you", "Regards"],
}
CLOSER = [
    "Thanks!", "Thanks in advance.", "Please help.", "Any help appreciated.", "Can someone look into this?",
    "Please get back to me soon.", "This is pretty urgent.", "Let me know.", "Thank you for your time.",
    "Appreciate it.", "thx", "ty", "Would appreciate a quick reply.", "Please advise.",
    "Hope you can sort this out.", "Looking forward to hearing from you.", "Cheers.",
    "I'd really appreciate some help here.", "Not happy about this.", "This is getting frustrating.",
    "Thanks for the great product otherwise.", "Keep up the good work.", "Pls reply asap.",
]
# closers that only fit a complaint, not a suggestion
COMPLAINT_CLOSERS = {"This is pretty urgent.", "Not happy about this.", "This is getting frustrating.", "Pls reply asap."}
# context sentences shared by every label, so greetings and background words carry no signal
CONTEXT = [
    "I've been a customer for [two|three|five|six|ten] years.", "I'm on the {plan} plan.", "We are a team of {num} people.",
    "I use {app} every day for work.", "This is for our small business.", "I'm using {device}.",
    "My colleague {name} has the same question.", "I already checked the help center.",
    "I couldn't find anything about this in the FAQ.", "We just moved over from another tool.",
    "I'm the admin of our workspace.", "This affects our whole team.", "I tried asking in chat already.",
    "It's the account registered under my work email.", "Sorry if this was asked before.",
    "We're on a trial right now.", "I'm fairly new to {app}.", "Our company has {num} seats.",
]

# --------------------------------------------------------------------------- label cores
# Each entry: (template, products it fits or None for all). "[a|b]" = pick one; "[|x ]" = optional.

BILLING = [
    ("I was [charged|billed] twice for my {plan} subscription {date}. [Please refund|Can you refund|I need a refund for] the [duplicate|second one|extra charge].", None),
    ("There's a {amount} [charge|payment|transaction] on my {payment} that I don't [recognise|recognize]. [What is it for?|Was that you?|Can you explain it?]", None),
    ("[I cancelled|I canceled|We cancelled] [my|our] subscription {date} but [I was|we were] still billed {amount}. [I want my money back.|Please reverse it.|How is that possible?]", None),
    ("Can I get a refund? I [upgraded|renewed|bought the yearly plan] by accident and haven't [used|touched] the {plan} features at all.", None),
    ("[My|Our] invoice for {month} says {amount}, but the {plan} plan is supposed to cost less than that.", None),
    ("How do I switch from monthly to [annual|yearly] billing, and do I get the discount [straight away|right away|from the next cycle]?", None),
    ("[Please add|Could you add|I need you to add] our VAT number to the invoices. [Our accounting department|Our finance people|Our auditor] won't accept them without it.", None),
    ("I want to downgrade from {plan_paid} to Basic. Will the [unused time|remaining days|rest of the month] be credited to my account?", None),
    ("My {payment} payment keeps getting declined, but the bank says [there is no problem on their side|everything is fine|the card is active].", None),
    ("I need to update the card on file, the old one expired {date}. Where do I [do that|change it|find that]?", None),
    ("Why did my price go up? I was paying {amount} and now it's more [without any notice|and nobody told me|out of nowhere].", None),
    ("Can you send me a copy of every invoice from [last year|2023|the past twelve months]? I need them for [taxes|our year-end books|an audit].", None),
    ("We added {num} new users and the bill jumped to {amount}. Is that right, [is it per seat|are we paying per person]?", None),
    ("Do you offer [a student|a nonprofit|an education|a startup] discount on the {plan} plan?", None),
    ("I was promised a {num}% discount by your [sales rep|account manager|sales team] but the invoice shows the full price.", None),
    ("The free trial ended and I got charged {amount} [straight away|immediately|the same day]. I never agreed to continue.", None),
    ("Can I pay by [bank transfer|invoice|wire transfer] instead of card? Our finance team prefers that.", None),
    ("The company name on my receipts is wrong, it should be our legal entity name. Can you [reissue|correct|redo] them?", None),
    ("I paid {amount} for the annual plan {date} but my [account|workspace] still shows the free tier.", None),
    ("How much would it cost to move our whole team of {num} to {plan}?", None),
    ("I have a credit [on my account|on our workspace] from a refund. Will it be used for the next renewal automatically?", None),
    ("I bought the subscription through the App Store and want a refund, who handles that?", ["ios"]),
    ("I subscribed [via|through] Google Play by mistake and was billed {amount}. How do I get that back?", ["android"]),
    ("The in-app purchase went through on my phone but the {plan} upgrade isn't there on the web.", ["ios", "android"]),
    ("[Our|My] API usage bill for {month} is {amount}, way above what [our dashboard|the usage page|your portal] says we used.", ["api"]),
    ("Are API overage charges billed monthly or at the end of the contract? Our invoice is confusing.", ["api"]),
    ("[We got billed for|You charged us for] [80k|200k|350k|1.2 million] extra API calls in {month}. [Our logs show far fewer.|That number can't be right.]", ["api"]),
    ("The license for the desktop app was charged again although I bought a [lifetime|perpetual] license[| {date}].", ["desktop"]),
    ("Do I need a separate license for the desktop app on my [second laptop|home computer|work PC], or is it included in {plan}?", ["desktop"]),
    ("[Please cancel|Turn off|Stop] auto-renewal. I don't want to be charged {amount} again next {month}.", None),
    ("I'd like a receipt with the payment date and tax breakdown for the {amount} charge.", None),
    ("My payment failed and now there's a banner saying my subscription will be paused. I already paid {date}!", None),
    ("Can I split the [bill|payment|invoice] between two [credit cards|cards|departments]?", None),
    ("Which currency will I be billed in? I'm in the [UK|EU|Canada] and the checkout shows dollars.", None),
    ("I got an invoice for {amount} but we're supposed to be on a fixed [yearly|annual] contract.", None),
    ("We need a purchase order number on every invoice from now on, PO {num}0{num}.", None),
    ("Is there a way to get a refund for the remaining months if I cancel the yearly plan now?", None),
    ("You charged the wrong card. I removed that {payment} from my profile [weeks ago|in {month}|a while back].", None),
    ("The pricing page says {amount}/month but I'm being charged more for the same {plan} plan.", None),
    # hard: bug or account words, but the request is about money
    ("The checkout page kept showing {error}, so I paid again, and now I've been charged twice.", None),
    ("After resetting my password I noticed a charge of {amount} I never made. Was my card used?", None),
]

BUG = [
    ("{app} [crashes|closes|dies] every time I open {feature}.", None),
    ("When I [click save|hit save|press save] in {feature} I get {error} and nothing is saved.", None),
    ("Since the last update {feature} [is completely blank|doesn't load anymore|just shows a spinner].", None),
    ("{feature} shows the wrong dates. Everything is shifted by one day [after I changed my time zone|since {since}].", None),
    ("I get {error} whenever I try to use {feature}. It worked fine {date}.", None),
    ("Uploading a file larger than {num} MB fails [silently|without any message], the progress bar just stops at 99%.", None),
    ("{feature} is [extremely|really|painfully] slow, it takes over a minute to load and sometimes times out.", None),
    ("Notifications arrive twice, sometimes three times, for the same [comment|update|mention].", None),
    ("The search returns results from projects I archived ages ago.", None),
    ("Exported CSV files have broken characters instead of accents (é shows as Ã©).", None),
    ("The [layout|page] is broken on {device}, buttons overlap and I can't reach the menu.", ["web"]),
    ("Drag and drop in the kanban board doesn't work in {device}, cards [snap back|jump back to where they were].", ["web"]),
    ("The tab [freezes|hangs] in {device} when I [paste a long list|open a big project], and the browser asks to kill the page.", ["web"]),
    ("The app freezes when I rotate my [phone|tablet] while editing.", ["ios", "android"]),
    ("After updating to the newest version the app won't open at all on {device}. It closes immediately.", ["ios", "android"]),
    ("Push notifications stopped working {date}. They're [enabled|turned on] in settings.", ["ios", "android"]),
    ("The keyboard covers the text field in {feature} and I can't see what I'm typing.", ["ios", "android"]),
    ("Photos taken with the camera button [upload sideways|come out black|never finish uploading] on {device}.", ["ios", "android"]),
    ("The desktop client uses 100% CPU even when it's just sitting idle in the tray.", ["desktop"]),
    ("The installer fails on {device} with {error}.", ["desktop"]),
    ("Sync between the desktop app and the web is stuck, changes from {since} never showed up.", ["desktop"]),
    ("The desktop app [shows a white window|opens off-screen|won't start] after [waking from sleep|the auto-update|connecting a second monitor].", ["desktop"]),
    ("{api_feature} returns {error} for requests that worked [yesterday|last week] with the exact same payload.", ["api"]),
    ("Pagination seems broken: page 2 returns the same items as page 1.", ["api"]),
    ("Webhooks are firing with an empty body since {since}.", ["api"]),
    ("The API docs say the field is called created_at but the response sends createdAt.", ["api"]),
    ("Dates in the JSON response come back in local time instead of UTC as documented.", ["api"]),
    ("[Our integration|Our nightly sync|The Zapier flow|Our backend job] [started failing|breaks|fails half the time] [since {since}|after your last deploy]: {api_feature} [returns|gives us] {error}.", ["api"]),
    ("[Calling|A POST to|A GET on] {api_feature} with [a valid token|the example from your docs|an empty filter] [returns|gives] {error}[| from {device}]. {bug_ask}", ["api"]),
    ("[The webhook signature|The HMAC check|Signature verification] [fails|doesn't match] for [every|some|about half of the] [events|deliveries] [since {since}|after the key rotation]. {bug_ask}", ["api"]),
    ("{api_feature} [ignores|doesn't respect] the [page_size|limit|since] parameter and [returns everything|always returns 20 items|returns nothing].", ["api"]),
    ("We're [hitting|getting] 429 Too Many Requests [at|with only] [a few|about {num}] requests per minute, [way below|far under] the documented limit.", ["api"]),
    ("[Deleting|Updating|Creating] an item [via|through] the API [returns 200|says success] but [nothing changes|the item is still there|nothing shows up in the dashboard].", ["api"]),
    ("[The Python SDK|The Node client|Your Go library] [throws|raises] [a TypeError|an exception|a KeyError] on [every|the first] [paginated call|request after a token refresh] with version 3.{num}.", ["api"]),
    ("The counter on {feature} says {num} items but the list only shows a few of them.", None),
    ("I deleted a [comment|task|note] and it came back after refreshing the page.", None),
    ("Images in attachments are shown rotated 90 degrees.", None),
    ("Filters reset every time I switch tabs, which wasn't the case before.", None),
    ("{feature} randomly logs me out mid-task and I lose what I was typing.", None),
    ("Reminders fire at the wrong time, about an hour early since daylight saving changed.", None),
    ("Copy-pasting from [Word|Google Docs|Outlook] into the editor breaks the formatting completely.", None),
    ("Clicking the link in the [notification email|weekly digest|invite email] takes me to a 404 page.", None),
    ("Sorting by due date puts empty dates at the top and the order is wrong.", None),
    ("The undo button removed two steps instead of one and I lost my work.", None),
    ("I can't scroll past the first {num}0 rows in {feature}.", None),
    ("Dark mode makes some text black on black so it's unreadable.", None),
    ("Every time I open {feature} it jumps back to the top of the page.", None),
    # hard: billing / account words, but something is broken
    ("The invoice PDF download gives me {error} instead of the file.", None),
    ("The upgrade button on the pricing page does nothing when I click it, no error either.", None),
    ("The 2FA code field won't accept paste, so I have to type the code by hand every time.", None),
    ("Changing my profile picture shows {error} and the old photo stays.", None),
    ("The billing page shows my amounts as NaN instead of numbers.", None),
    ("The export to Excel says it succeeded but the file won't open, it says it's corrupted.", None),
    ("My team member accepted the invite but still shows as pending, and the page throws {error}.", None),
    ("The search is so slow it's basically unusable, even in a small project. Did something change?", None),
    ("The language setting keeps switching back to English after every restart.", None),
]

FEATURE_REQUEST = [
    ("It would be great if [the reports page|the task list|the calendar view|the dashboard|the activity feed] could export to {format}.", None),
    ("Please add {newthing}. [It's the one thing I miss.|We'd use it every day.|Every other tool has it.]", None),
    ("Any plans to support {newthing}?", None),
    ("Would you consider adding {newthing}? [Our team keeps asking for it.|That would save me a lot of time.|I'd switch my whole team over.]", None),
    ("[Feature idea|Idea|Quick idea]: let us choose the default view for {feature}.", None),
    ("I'd love to be able to [sort|group] the task list by more than one column.", None),
    ("Could you make it possible to [archive|duplicate|merge|move] projects in bulk?", None),
    ("It would help a lot to get a [weekly|daily] summary email of what changed in {feature}.", None),
    ("[Can you|Could you|Please] let us set a default due time instead of midnight?", None),
    ("Suggestion: show the [word count|character count|reading time] in the editor somewhere.", None),
    ("Is there any chance you'll add {newthing} this year?", None),
    ("We really need {newthing} before we can roll this out to the whole company.", None),
    ("It would be nice if {feature} remembered my last filter instead of starting fresh.", None),
    ("Wish list: {newthing} and {newthing2}.", None),
    ("Can you add an option to hide completed items from {feature}?", None),
    ("I'd like to request {newthing} for {app}.", None),
    ("Could you allow more than {num} attachments per item? The limit is too low for us.", None),
    ("How about letting us color-code [tags|projects|columns]? It would make the board much easier to scan.", None),
    ("Please make the sidebar [resizable|collapsible|narrower], it takes up [half my screen|too much space|a third of the window].", ["web", "desktop"]),
    ("[Could you add|Please add|I'd love] a full-screen [writing|focus|presentation] mode for {feature}.", ["web", "desktop"]),
    ("Let me open [two projects|several boards|the calendar and the task list] side by side in [separate tabs|separate windows|a split view].", ["web", "desktop"]),
    ("A browser extension to [clip pages|save links|create tasks] straight into {app} would be really useful.", ["web"]),
    ("An iPad split view layout would be fantastic.", ["ios"]),
    ("Please add a home screen widget for today's [tasks|agenda|reminders].", ["ios", "android"]),
    ("[Could|Can] the [phone|mobile] app get [the same offline support as|the same charts as|the bulk edit from] the web one?", ["ios", "android"]),
    ("It would be great to have a menu bar mode for the Mac app.", ["desktop"]),
    ("Please add a system tray shortcut to create a new item quickly.", ["desktop"]),
    ("We'd like to request {newthing_api} in the API.", ["api"]),
    ("Could the API expose the [comment history|audit trail|attachment metadata]? Right now we have to scrape it.", ["api"]),
    ("Please add {newthing_api}, it would make our integration much simpler.", ["api"]),
    ("It would help if webhooks included the previous value of changed fields.", ["api"]),
    ("Can you add a field for custom metadata on items via the API?", ["api"]),
    ("[Could|Can|Would] you [add|expose|support] [bulk updates|partial updates with PATCH|field selection|sorting by any field] [in|on] {api_feature}? [We make thousands of calls right now.|It would cut our traffic a lot.|{feature_ask}]", ["api"]),
    ("[It would be great|It'd really help|We'd love it] if [the API|the SDK|the developer portal] [could|would] [return the total count|show request logs|let us test webhooks|support API keys per project]. {feature_ask}", ["api"]),
    ("[Any plans for|Is there a roadmap for|Please consider] {newthing_api}? [We'd switch our whole stack.|It's blocking a migration for us.|Our devs keep asking.]", ["api"]),
    ("[Please|Could you] [publish|provide] [a Postman collection|TypeScript types|a changelog feed|an official PHP SDK] for the API. {feature_ask}", ["api"]),
    ("[We'd like|Feature request:] [scoped API keys|read-only tokens|IP allow-lists] [so our interns can't break anything|because our security team keeps asking for them|so we can lock things down].", ["api"]),
    ("Would it be possible to schedule reports to go out automatically every [Monday|Friday|month]?", None),
    ("Feature request: mention people with @ in comments and notify them.", None),
    ("It'd be really handy to have templates for recurring [projects|checklists|meetings].", None),
    ("Please consider adding a way to undo deletions for at least {num} days.", None),
    # hard: billing / account / bug words, but asking for something new
    ("It would be nice to have a monthly usage report attached to each invoice.", None),
    ("Search works, but could you make it match partial words? Right now it only finds exact terms.", None),
    ("Could we get a setting to keep people logged in longer than {num} hours?", None),
    ("Please let admins see which members haven't logged in for a while, it would help us clean up.", None),
    ("Not a bug exactly, but {feature} would be much faster if it loaded items as you scroll.", None),
]

ACCOUNT = [
    ("I can't log in, it says my password is incorrect even right after resetting it.[| I'm locked out completely.| I need access today for a deadline.]", None),
    ("The password reset email never arrives. I checked spam [too|as well|already].", None),
    ("How do I [turn on|enable|set up] two-factor authentication[| for my account| for everyone on the team]?", None),
    ("I lost my phone and can't get my 2FA codes anymore. How can I get back into my account?", None),
    ("I need to change the email address on my account, I'm leaving my old [company|job|employer].", None),
    ("My account got locked after too many login attempts. Can you unlock it?", None),
    ("Someone [logged into|accessed] my account from [another country|a device I don't own] {date}. I didn't do that!", None),
    ("How do I transfer ownership of the workspace to my colleague {name}?", None),
    ("I have two [accounts|logins] with different emails. Can you merge them into one?", None),
    ("I'm the admin and need to remove access for an employee who left[| last week| {date}].", None),
    ("My username is showing as {name}{num} but I never chose that. How do I change it?", None),
    ("I forgot which email I signed up with. Can you help me find my account?", None),
    ("I signed up with [Google|Apple|Microsoft] but now want a normal password login. Is that possible?", None),
    ("The verification [email link|link] says it has expired. Can you send a new one?", None),
    ("How can I download all my personal data before I close my account?", None),
    ("I keep getting logged out of {app} every few minutes[| and have to enter my 2FA code each time]. Is something wrong with my account?", None),
    ("Can I change my display name and profile photo without creating a new account?", None),
    ("I was removed from my team's workspace by mistake, how do I get access back?", None),
    ("Face ID login stopped working[| after the update], it always asks for my password now.", ["ios"]),
    ("Sign in with Apple [on my iPhone|in the iOS app] creates a new empty account instead of opening my old one.", ["ios"]),
    ("Fingerprint login doesn't show up [on the Android app|in the app] anymore, only password[| since {since}].", ["android"]),
    ("I switched to a new Android phone and the app [doesn't recognise my account|asks me to verify by SMS to my old number].", ["android"]),
    ("The app keeps asking for my password on {device} even though I ticked [\"remember me\"|stay signed in].", ["ios", "android"]),
    ("The desktop app won't remember my login between restarts.", ["desktop"]),
    ("Our API key was exposed in a public repo. Please revoke it and tell me how to make a new one.", ["api"]),
    ("How do I create a separate API token for our [CI system|staging server|new developer] with limited permissions?", ["api"]),
    ("My API token suddenly returns 401 Unauthorized, was my account disabled?", ["api"]),
    ("[Can|Could] you give [our new developer|{name}|a second engineer] access to the developer portal and our API keys?", ["api"]),
    ("I never got the invite email to join my company's workspace.", None),
    ("Please change the phone number used for my two-factor codes, I have a new number.", None),
    ("I think my account was hacked, the password was changed and it wasn't me.", None),
    ("Can I have more than one admin on the account?", None),
    ("How do I log out of all devices at once? I left my laptop logged in at [work|a friend's place|the library].", None),
    ("I deactivated my account by accident. Can it be restored?", None),
    ("What happens to my projects if I delete my profile? Will my team still see them?", None),
    ("My recovery codes don't work. I saved them when I set up 2FA.", None),
    # hard: bug / billing / feature words, but about getting in or managing the account
    ("The login page just spins forever after I enter my password, so I can't get into my account.", None),
    ("I changed my email {date} and now the app says no account exists with that address.", None),
]

# Open-ended templates: many inner alternatives, so a ticket rarely repeats another's wording.
ACTION = [
    "open it", "try to save", "add a new item", "scroll down", "switch tabs", "upload a photo",
    "change the date", "click export", "rename a project", "filter by tag", "paste an image",
    "open a shared link", "sort by name", "drag a card", "attach a PDF", "reply to a comment",
    "duplicate a project", "zoom in", "go back a page", "archive something", "edit an old entry",
    "switch workspaces", "print a report", "use the search box", "turn on dark mode", "mark a task done",
    # overlap with other labels' vocabulary
    "log in", "open the billing page", "update my profile", "download an invoice", "change my password",
]
SYMPTOM = [
    "crashes", "freezes", "hangs", "stops responding", "closes by itself", "goes blank", "shows {error}",
    "throws {error}", "loads forever", "jumps back to the start", "duplicates the last entry",
    "loses my changes", "displays the wrong numbers", "gets stuck", "flickers and then dies",
    "turns into a grey box", "shows someone else's data for a second", "reloads over and over",
]
CAPABILITY = [
    "export to {format}", "remember my last filter", "show more than {num} items per page",
    "be sorted by custom fields", "work offline", "send a daily digest", "be shared with people outside the team",
    "have its own keyboard shortcut", "be customised per project", "show totals at the bottom",
    "be pinned to the top", "open in a separate window", "be filtered by assignee", "show a preview on hover",
    "collapse into a compact view", "be reordered by drag and drop", "use our brand colours",
    "be hidden for guests", "show week numbers", "link to items in other projects", "be translated into German",
]
BILLING_ASK = [
    "Can I get a refund?", "Please refund the difference.", "Please reverse the charge.", "How do I get my money back?",
    "Could you credit it to my account?", "Can you send a corrected invoice?", "Please explain what this charge is.",
    "I'd like that money returned.", "Can you fix the invoice?", "Please sort out the billing.",
    "Can you refund it to the original card?", "What are my options here?", "Is this a mistake?",
]
BILLING_DOC_ASK = [
    "Can you send a corrected invoice?", "Can you fix the invoice?", "Please reissue it.", "Can you update it?",
    "Our accountant needs a correct version.", "We can't book it like this.", "Please correct it and resend.",
]
BUG_ASK = [
    "Is there a fix?", "Is this a known issue?", "Can you look into it?", "Any workaround?",
    "Please fix this.", "Is this being worked on?", "When will this be fixed?", "Is it just me?",
    "It makes the app unusable for me.", "What should I do?", "Is this expected?",
]
FEATURE_ASK = [
    "Is this on the roadmap?", "Would that be possible?", "Any chance?", "Please consider it.",
    "Is that something you'd build?", "Just a suggestion.", "Would love to see it.",
    "Could you pass this on to the product team?", "Would that be hard to add?",
]
ACCOUNT_ASK = [
    "How do I get back in?", "What should I do?", "Please help me get access again.", "Can you help?",
    "Can you check my account?", "Is there something wrong with my account?", "Can you reset it on your end?",
    "Please confirm once it's done.", "What are the steps?",
]

BILLING += [
    ("I was [charged|billed] {amount} [twice|two times|a second time|again] {date}[| for the same month| for one subscription]. {billing_ask}", None),
    ("[There's|I see|I found|I noticed] a {amount} charge [on my {payment}|on my bank statement|from you|on the company card] [that I don't recognise|I never authorised|I can't explain|that doesn't match any invoice]. {billing_ask}", None),
    ("I [cancelled|canceled|ended|stopped] my [subscription|plan|trial|membership] {date} [but|and yet|yet] [I was still charged|you still billed me|a new charge showed up for] {amount}[.|!]", None),
    ("[My subscription|Our plan|My plan] [renewed|was charged|went through] {date} at {amount} instead of [the price I signed up for|what the pricing page says|the discounted rate]. {billing_ask}", None),
    ("[I need|We need|We'd like|Please send us] [an invoice|a receipt|a proper invoice|a tax invoice] for [the {amount} payment|last month|the {month} charge|our annual plan][| with our company address on it].", None),
    ("[How do I|How can I|Can I] switch the [payment method|billing method|way we pay] to {payment}?", None),
    ("[I want to|I'd like to|We want to|Can I] [upgrade|downgrade|move] [from {plan_paid} to Basic|to the {plan} plan|to annual billing|to monthly billing][| before the next renewal]. [What will I be charged?|Will I be billed pro rata?|How does the billing work?|Do I pay the difference?]", None),
    ("[Your|The] [invoice|receipt|bill] for {month} [has the wrong amount|lists {num} seats but we only have a few|is missing the tax breakdown|is addressed to the wrong company|still shows our old address]. {billing_doc_ask}", None),
    ("[Why was I|Why am I being|How come I was|How come I'm being] [billed|charged] {amount} [this month|for {month}|{date}]? [I'm on the {plan} plan.|I thought the price was lower.|Nothing changed on our side.]", None),
    ("[Please|Kindly] [stop|cancel|turn off] [the automatic renewal|auto-renew|my recurring payment] [on|for] [the {plan} plan|my subscription|our account][| before {month}].", None),
]
BUG += [
    ("{feature} {symptom} [when|whenever|every time|each time|as soon as] I {action}[| on {device}]. {bug_ask}", None),
    ("[I get|I'm getting|I keep getting|We're seeing] {error} [when|whenever|every time|each time] I {action}[| in {app}][.|!] {bug_ask}", None),
    ("[Since|After] [the last update|the update {date}|yesterday's release|version 4.{num}|updating {date}], {feature} [won't load|doesn't load anymore|shows {error}|is stuck on a spinner|looks broken|{symptom}].", None),
    ("[In|On] {app}, [the|my] [save|send|export|submit|share|delete] button [doesn't do anything|is greyed out|shows {error}|works only on the second click][| since {since}]. {bug_ask}", None),
    ("{app} [keeps|started] [crashing|freezing|hanging|showing {error}] [in the middle of|whenever I'm in|when I open] {feature}[| on {device}].", None),
    ("[Weird|Strange|Annoying|Serious] [bug|glitch|problem|issue]: {feature} {symptom} [after I|if I|when I] {action}.", None),
]
FEATURE_REQUEST += [
    ("[It would be great|It'd be nice|It would really help|I'd love it|It would be amazing] if {feature} could {capability}. {feature_ask}", None),
    ("[Please add|Can you add|Could you add|Any plans to add|Would you consider adding|I'd like to request|Could we get] {newthing}[| to {app}| in {app}]? {feature_ask}", None),
    ("[Is there a way|Any way|Is it possible] for {feature} to {capability}? [If not, please consider adding it.|If not, that would be a great addition.|I couldn't find a setting for it.|If not, consider this a request.]", None),
    ("[Suggestion|Idea|Request|Small request|Feedback]: [an option|a setting|a toggle] so that {feature} can {capability}. {feature_ask}", None),
    ("[We've been using|I've been using|Our team has used] {app} [for {num} months|for a while now|every day] and [the one thing missing is|we'd really like|I keep wishing for] {newthing}.", None),
]
ACCOUNT += [
    ("I [can't|cannot|am unable to|still can't] [log in|sign in|get into my account|access my account] [on|from|in] {app}[| since {since}]. [|I tried the forgot password link already. |It was working fine {date}. |I'm locked out completely. ]{account_ask}", None),
    ("[The|My] [password reset|verification|confirmation|login link|sign-in code] email [never arrives|doesn't come|isn't showing up|arrives hours late and has expired][| even after {num} tries]. {account_ask}", None),
    ("[How do I|How can I|Where can I|Can I] [change|update] [my email address|the email on my account|my phone number for 2FA|my display name|my profile photo|my password|my username][| in {app}]?", None),
    ("[Please delete|Please close|I want to delete|Can you remove|Please deactivate] my account[| and all my data| and everything attached to it| permanently][| as soon as possible]. [|I don't need it anymore.|I'm moving to another tool.|Please confirm by email.]", None),
    ("My account [is locked|got locked|was suspended|was disabled|is blocked] [after|because of] [too many login attempts|a failed 2FA check|a suspicious login|a password change {date}]. {account_ask}", None),
    ("[How do I|How can I|Can you help me] [add|invite] [a new team member|{name}|my assistant|an external contractor] to our workspace[| and set their permissions]?", None),
    ("[How do I|How can I|Can you help me] remove [a former employee|{name}|an old contractor|someone who left] from our workspace?", None),
    ("[My|The] [two-factor|2FA|authenticator] codes [don't work|are rejected|aren't accepted|keep failing][| since I changed phones| since {since}]. {account_ask}", None),
]

# Deliberately hard tickets: they borrow another label's vocabulary, but the label follows
# what the customer actually wants (money back, a fix, something new, or access).
BILLING += [
    ("[The app|{app}] [crashed|froze|showed {error}] [during checkout|while I was paying|on the payment screen] and [I got charged twice|now there are two charges of {amount}|the money left my account anyway]. [Please refund the extra one.|I only want to pay once.|Can you check?]", None),
    ("[I deleted|I closed|I removed] my account {date} [but|and] [you still charged me|there was another charge of] {amount}[.|!]", None),
    ("I [can log in fine|have no trouble with my account], but the [billing tab|plan page|subscription page] [says|claims] I [owe|still owe] {amount}[, which I already paid|, even though our invoice is marked paid].", None),
    ("[We removed|I removed|We offboarded] {num} [users|people|members] [from the workspace|from our team] {date} [but|and] [we're still paying for their seats|the invoice still counts them].", None),
    ("[Is there|Do you have] a [cheaper|smaller|lighter] plan [for|suitable for] [just one person|freelancers|a team of {num}]? {plan} is too [much|expensive] for us.", None),
    ("[Will|Would] I lose [my data|my projects|access to my files] if I [stop paying|let the subscription lapse|downgrade to the free plan]?", None),
    ("The [upgrade|payment] went through {date} but {app} still [shows the free plan|hasn't unlocked {plan}|says my trial expired]. [I have the receipt.|The money is gone from my card.]", None),
]
BUG += [
    ("[The|Your] [login|sign-in] [button|screen] [does nothing|shows {error}|reloads itself] in {app} [after the last update|since {since}|on {device}], [and other pages work|although everything else loads fine|and I know my password is right].", None),
    ("[The|Your] [pricing page|checkout page|billing page|invoice list] [shows {error}|won't load|is blank|{symptom}] in {app}[| on {device}]. {bug_ask}", None),
    ("[The|My] [profile|settings|account settings] page [shows {error}|won't save|{symptom}] when I [change my avatar|edit my name|switch the language].", None),
    ("[Export to|Exporting as] {format} [produces an empty file|cuts off after {num} rows|gives {error}]. {bug_ask}", None),
    ("[Search|The search] [is painfully slow|takes ages|times out] [now|since {since}], [it used to be instant|it was fine last month].", None),
    ("The invoice total [is calculated wrong|doesn't add up|shows NaN] in the [PDF|preview]: the line items are right but the sum isn't.", None),
]
FEATURE_REQUEST += [
    ("[Would be nice|It'd be great|Please make it possible] to pay [with PayPal|with Apple Pay|with Google Pay|by bank transfer|by SEPA direct debit|by invoice][, right now only cards work|, our company can't use cards|].", None),
    ("[Please add|Could you add|Can we get] [an option|support] to [log in|sign in] with [Google|Microsoft|Okta|Apple|SAML SSO][| for our team].", None),
    ("[Could you|Please] [support|add] [authenticator apps|hardware keys|passkeys] for [2FA|two-factor login|sign-in] [instead of only SMS|alongside SMS codes].", None),
    ("[Can you add|Please add] a [spending cap|budget limit|usage alert] [to|for] the {plan} plan so [the bill|our invoice] can't [go over|exceed] {amount}.", None),
    ("[It's not really a bug, but|Not a bug, but|Nothing is broken, but] {feature} would be [much nicer|easier to use|a lot better] if it could {capability}.", None),
    ("[Any chance of|Would you consider|Please consider] [invoices in {format}|separate invoices per project|one combined invoice for all our workspaces]?", None),
    ("[It would help|We'd love] to [see|have] [a list of who logged in when|last login dates for each member|the active sessions per user] in the admin area.", None),
    ("[Please|Could you] let [admins|owners] [reset passwords for|enforce 2FA for|lock the accounts of] other members from the admin panel.", None),
]
ACCOUNT += [
    ("[I keep getting|It keeps showing] {error} [when I try to|whenever I] [log in|sign in] [on|from] {app}[, and my password is definitely right|, I reset my password twice already].", None),
    ("[I can't get into my account|I'm locked out], so I can't [download my invoices|check my billing|update my card]. The [reset link|2FA prompt] [is broken|fails|never loads].", None),
    ("[Please close|Cancel] my account [completely|entirely]. [I already cancelled the subscription|Billing is already stopped], [I just want my data gone|I want my details removed].", None),
    ("[Can|Could] you give [my accountant|our bookkeeper|a contractor] [read-only|limited|view-only] access to our account?", None),
    ("Is there a way to [merge|combine|link] my [two accounts|personal and work accounts]? [Billing is on the work one.|I keep logging into the wrong one.]", None),
    ("[My colleague|{name}] [still has|kept] [admin rights|access to everything] [even though|although] I [changed their role|removed them] {date}.", None),
    ("[Why does|Why on earth does] {app} [ask me to verify my identity|send me a 2FA code|make me log in again] every [time|single time|day]?", None),
]

# a short second topic some customers tack on; the ticket keeps the label of its main request
SECONDARY_PREFIX = ["Also,", "Unrelated, but", "Side note:", "PS:", "And while I have you,", "One more thing:"]
SECONDARY = {
    "billing": ["when is my next payment due?", "the {month} invoice hasn't arrived yet.",
                "can you confirm what I'm paying per seat?", "is VAT included in the price?",
                "I think we were charged a bit more than usual in {month}.", "please send receipts to our finance address too.",
                "is there a discount if we pay for the year upfront?", "my card expires soon, where do I update it?"],
    "bug": ["{feature} has been a bit glitchy lately.", "the app crashed on me once today.",
            "the page sometimes shows {error} but it goes away.", "notifications seem delayed.",
            "{feature} was slow to load this morning.", "I saw {error} once after logging in, no idea why.",
            "some buttons look cut off on {device}.", "the search gave me odd results earlier."],
    "feature_request": ["dark mode would be nice someday.", "a {format} export would be great.",
                        "keyboard shortcuts would make this much faster.", "it would be nice to have more themes.",
                        "I'd love {newthing} one day.", "could {feature} get a search box at some point?",
                        "a mobile widget would be handy.", "it would be cool to get weekly reports by email."],
    "account": ["how do I change my email address?", "I had to reset my password twice this week.",
                "can I add a second admin?", "where do I turn on 2FA?",
                "{name} from my team can't log in either.", "I'd like to change my username at some point.",
                "how do I remove an old member from the workspace?", "the login code took ages to arrive."],
}

# Short, vague or indirect tickets, as customers often write them: little or no keyword to go on,
# but a careful reader can still tell what they want.
BILLING += [
    ("[Question|Quick question] about [my last payment|the amount you took this month|our last statement], [can someone call me?|who do I talk to?|is anyone available?]", None),
    ("Something looks off with what you took from [my|our] [account|card] [this month|in {month}|{date}].", None),
    ("[Can you check my plan?|Could someone check our plan?] The numbers don't look right to me[| compared to last month].", None),
    ("What [will|would] we pay if we add {num} more people?", None),
    ("[Our finance team|My accountant|Our bookkeeper] says [the numbers from you don't match|we paid you twice in {month}|there's an open balance with you]. [Can you look?|Can you confirm?|Please check.]", None),
    ("[Do I|Will I] still pay the old price [after|when] [my contract ends|the year is over|I add users]?", None),
    ("[We're|I'm] a [charity|school|startup|two-person shop]. Is there anything you can do on the price?", None),
    ("[Where do I find|How do I download|Where can I get] [last year's receipts|our receipts|the paperwork for our payments][| in {app}]? [Our auditor needs them.|I looked everywhere.|]", None),
    ("I was told I'd get [the first month free|two months free|three months free|a credit] but [it wasn't applied|nothing changed|I paid the full amount].", None),
    ("Is the [price|amount] on [the website|your pricing page] [per user or per team|with or without tax|monthly or yearly]?", None),
]
BUG += [
    ("[It's|It is] not working [since {since}|again|at all]. [Please help.|Same as before.|Nothing changed on my side.]", None),
    ("{feature} is acting [weird|strange|up] again[, the numbers look wrong|, items disappear|, half of it is missing].", None),
    ("Nothing happens when I [click|tap] [it|the button|{feature}][| on {device}].", None),
    ("[Same problem as last week|That problem from before|The issue I reported {date}] [is back|came back|is happening again]: {feature} {symptom}.", None),
    ("Why does [the export|the report|the printout] [skip the last row|leave out some items|double some entries]?", None),
    ("Is {feature} supposed to [show last week's items twice|be empty|look like this]? [It didn't before.|That can't be right.]", None),
    ("[My|Our] [changes|edits|notes] from {since} [are gone|disappeared|were overwritten] in {feature}. [Did something happen?|I didn't delete anything.]", None),
    ("[I can't|Can't] get {feature} to [show anything|load|open] [on|in] {app}[| today]. [It's been like this for hours.|Others in my team are fine.]", None),
    ("The numbers in {feature} [don't match|are different from] what I see in [the export|the mobile app|the desktop app].", None),
    ("[Half the page|The right side of the screen|The menu] [is cut off|is missing|overlaps the text] [on|in] {app}.", None),
]
FEATURE_REQUEST += [
    ("{app} really needs [a search bar|a way to filter by person|a calendar|a bulk delete|a way to star things].", None),
    ("{feature} is [pretty limited|a bit basic|hard to use] without [column headers|custom colours|more sort options|a way to group items], [please think about it|consider improving it|maybe in a future update].", None),
    ("[Could|Can] {feature} do more with [tags|dates|comments|attachments]? Right now it's [pretty bare|limited|basic].", None),
    ("[We'd|I'd] [happily|gladly] [use|pay for] {feature} [a lot more|more] if it [worked with Outlook|had templates|handled recurring items|showed totals].", None),
    ("[Why can't I|Why can't we|How come we can't] [choose|set] [my own start page|a default project|the week start day|the date format]? [It would be really useful.|Please add that.|Seems like an easy win.|]", None),
    ("It's a shame [I|we] can't [choose|set] [a default project|the week start day|the date format|our own start page]. [Please add it.|Could that be an option?|Maybe in a future version?]", None),
    ("[Do you plan|Are you planning|Is there a plan] to [bring {app} to tablets|release a Linux version|make {app} work offline|make {app} work better with screen readers]?", None),
    ("{feature} [would be|could be] [so much better|a lot more useful] with [a compact mode|bigger previews|a search field|keyboard navigation].", None),
    ("[Our team keeps asking|My team asked again|We keep asking] for [a way to|the ability to] [comment on files|assign two people|set priorities|copy a whole board].", None),
    ("[Hoping|Hope] you [can|will] [bring back|add back|add] [the old compact layout|list view on mobile|the weekly overview] [as an option|as a setting][| someday].", None),
]
ACCOUNT += [
    ("[Can't get in.|Cannot get in!|Still can't get in.] [Tried everything.|Please help.|What now?]", None),
    ("[I need help with my profile|Something is wrong with my profile], it's not letting me [do anything|save my details|change anything].", None),
    ("Need to [get rid of|remove] my [profile|user|details] [completely|entirely], how?", None),
    ("[I got a new phone|I switched phones|My phone was stolen] and the [code thing|security code|verification step] doesn't work anymore.", None),
    ("[Our admin left|My boss left|The person who set us up left] and [nobody|no one] can [get into|change] the [admin settings|workspace settings|user list] now.", None),
    ("[Who|Which person] [owns|is the owner of] our workspace? I [need to|want to] [hand it over|get owner rights|change the owner].", None),
    ("[It says|It tells me] [my email is already in use|this user doesn't exist|I'm not invited] when I try to [join|sign up|accept the invite].", None),
    ("[Can you|Could you|Is it possible to] [switch|move] [my user|my profile|me] [over to|onto] my [new|personal|work] email[| address]?", None),
    ("I'm [getting|seeing] emails about [a sign-in|a new device|a security check] that [wasn't me|I didn't do]. [Should I worry?|Is someone in?|What do I do?]", None),
]
GENERIC_ASK = [
    "Can you look into it?", "What should I do?", "Can you help?", "Please get back to me.",
    "Let me know what you think.", "Is that possible?", "Any advice?", "Thanks for checking.",
]

# mild asides that borrow another label's vocabulary; added to some tickets without changing their topic
ASIDE = {
    "billing": ["The app itself works fine.", "I'm logged in as the account owner.", "I had to reset my password to even see this.",
                "Not a bug report, just a billing question.", "I checked the settings page but couldn't change it there."],
    "bug": ["We pay for the {plan} plan, so this matters.", "I'm logged in as the admin, if that matters.",
            "Not a feature request, this used to work.", "I even reset my password in case that was it.", "Our subscription is up to date."],
    "feature_request": ["Everything else works great.", "This isn't a bug, just something I'd find useful.",
                        "We're on the {plan} plan and happy to pay for it.", "I know you can do it with a workaround, but it's clunky."],
    "account": ["Our subscription is paid up.", "I'm not sure if this is a bug or something with my account.",
                "The app otherwise works fine.", "I'm the one who pays for our plan."],
}

CORES = {"billing": BILLING, "bug": BUG, "feature_request": FEATURE_REQUEST, "account": ACCOUNT}

# follow-up sentences that add detail within a label (a second sentence for some tickets)
FOLLOWUP = {
    "billing": [
        "My order number is {num}{num}{num}.", "The charge was on my {payment}.", "I need this sorted before month end.",
        "Our accountant is asking about it.", "I've attached a screenshot of the statement.",
        "We've always paid on time.", "We currently pay about {amount} a month.", "I'm the one who handles payments here.",
        "Please send any receipts to my email.", "Our finance team needs an answer this week.",
    ],
    "bug": [
        "I'm using {device}.", "I already tried [reinstalling|clearing the cache|logging out and back in].",
        "It happens every single time.", "It only happens sometimes, maybe one in {num} tries.",
        "I can reproduce it every time.", "Screenshot attached.", "It started {date}.",
        "A coworker on {device} sees the same thing.", "Restarting doesn't help.", "Other pages seem fine.",
    ],
    "feature_request": [
        "Other tools we use already have this.", "Happy to beta test it.", "It would save us hours each week.",
        "Not urgent, just an idea.", "I'd even pay more for it.", "Our whole team of {num} would use it.",
        "Right now we use a spreadsheet as a workaround.", "I've seen others ask for this too.",
        "Even a basic version would be fine.", "Thanks for listening to feedback.",
    ],
    "account": [
        "My username is {name}{num}.", "Happy to verify my identity.", "I can prove it's my account if needed.",
        "I still have access to my email.", "This is my work account.", "Please confirm when done.",
        "I need this sorted today.", "I've had this account for years.", "The account is under {name}'s name.",
        "I use the same email everywhere.",
    ],
}

# --------------------------------------------------------------------------- noise

TYPO_WORDS = {
    "receive": "recieve", "the": "teh", "because": "becuase", "account": "acount", "password": "pasword",
    "definitely": "definately", "really": "realy", "separate": "seperate", "subscription": "subscripton",
    "notifications": "notifcations", "invoice": "invoce", "again": "agian", "cancelled": "canceled",
    "doesn't": "doesnt", "can't": "cant", "I'm": "im", "don't": "dont", "please": "pls", "you": "u",
    "it's": "its", "would": "woud", "with": "wiht", "working": "workign", "change": "chnage",
}


def add_typos(text: str, rng: random.Random) -> str:
    words = text.split(" ")
    candidates = [i for i, w in enumerate(words) if w.strip(".,!?").lower() in {k.lower() for k in TYPO_WORDS}]
    rng.shuffle(candidates)
    for i in candidates[: rng.choice([1, 1, 2])]:
        w = words[i]
        core = w.strip(".,!?")
        repl = next(v for k, v in TYPO_WORDS.items() if k.lower() == core.lower())
        words[i] = w.replace(core, repl)
    if rng.random() < 0.3:  # a dropped or doubled letter in one longer word
        long_words = [i for i, w in enumerate(words) if len(w) > 6 and w.isalpha()]
        if long_words:
            i = rng.choice(long_words)
            w = words[i]
            j = rng.randrange(1, len(w) - 1)
            words[i] = w[:j] + w[j + 1:] if rng.random() < 0.5 else w[:j] + w[j] + w[j:]
    return " ".join(words)


# --------------------------------------------------------------------------- composition

ALT = re.compile(r"\[([^\[\]]*)\]")
STICKY_SLOTS = ("plan", "plan_paid", "payment", "device")
_sticky: dict[str, str] = {}  # one plan / payment method / device per ticket, reset by compose()
SLOT = re.compile(r"\{(\w+)\}")


def fill(template: str, product: str, rng: random.Random, cap: bool = True) -> str:
    text = ALT.sub(lambda m: rng.choice(m.group(1).split("|")), template)
    key = "api" if product == "api" else "any"
    picks: dict[str, str] = {}

    def slot(m: re.Match) -> str:
        name = m.group(1)
        if name == "app":
            return rng.choice(APP[product])
        if name in STICKY_SLOTS and name in _sticky:
            return _sticky[name]
        if name == "device":
            return _sticky.setdefault(name, rng.choice(DEVICE[product]))
        if name == "feature":
            return rng.choice(FEATURE["any"])
        if name == "api_feature":
            return rng.choice(FEATURE["api"])
        if name == "error":
            pool = ERROR[key] if product == "api" and rng.random() < 0.5 else ERROR["any"]
            return rng.choice(pool)
        if name in ("newthing", "newthing2"):
            value = rng.choice([t for t in NEWTHING if t not in picks.values()])
            picks[name] = value
            return value
        if name == "action":
            return fill(rng.choice(ACTION), product, rng, cap=False)
        if name == "symptom":
            return fill(rng.choice(SYMPTOM), product, rng, cap=False)
        if name == "capability":
            return fill(rng.choice(CAPABILITY), product, rng, cap=False)
        if name.endswith("_ask"):
            if rng.random() < 0.4:
                return rng.choice(GENERIC_ASK)
            return rng.choice({"billing_ask": BILLING_ASK, "billing_doc_ask": BILLING_DOC_ASK, "bug_ask": BUG_ASK, "feature_ask": FEATURE_ASK,
                               "account_ask": ACCOUNT_ASK}[name])
        if name == "newthing_api":
            return rng.choice(NEWTHING_API)
        pools = {"amount": AMOUNT, "plan": PLAN, "plan_paid": PLAN_PAID, "payment": PAYMENT, "date": DATE,
                 "month": MONTH, "num": NUM, "name": NAME, "format": FORMAT, "since": SINCE}
        value = rng.choice(pools[name])
        if name in STICKY_SLOTS:
            _sticky[name] = value
        return value

    text = SLOT.sub(slot, text)
    return text[0].upper() + text[1:] if text and cap else text


def pick_core(label: str, product: str, rng: random.Random) -> str:
    options = [t for t, products in CORES[label] if products is None or product in products]
    # product-specific cores are fewer, so give them extra weight when they fit
    specific = [t for t, products in CORES[label] if products and product in products]
    if specific and rng.random() < (0.6 if product == "api" and label in ("bug", "feature_request") else 0.35):
        return rng.choice(specific)
    return rng.choice(options)


MAX_SENTENCES = 3  # sentences of three or more words, not counting the greeting and the sign-off


def count_sentences(parts: list[str]) -> int:
    text = " ".join(parts)
    return sum(1 for x in re.split(r"(?<=[.!?])\s+", text) if len(x.split()) >= 3)


def compose(label: str, product: str, channel: str, rng: random.Random) -> str:
    _sticky.clear()
    context = rng.sample(CONTEXT, 2)
    body: list[tuple[str, bool]] = []  # (text, optional)
    if rng.random() < 0.22:
        body.append((fill(context[0], product, rng), True))
    body.append((fill(pick_core(label, product, rng), product, rng), False))
    if rng.random() < 0.4:
        body.append((fill(rng.choice(FOLLOWUP[label]), product, rng), True))
    if rng.random() < 0.12:
        body.append((fill(context[1], product, rng), True))
    if rng.random() < 0.15:
        body.append((fill(rng.choice(ASIDE[label]), product, rng), True))
    if rng.random() < 0.2:
        other = rng.choice([x for x in SECONDARY if x != label])
        body.append((f"{rng.choice(SECONDARY_PREFIX)} {fill(rng.choice(SECONDARY[other]), product, rng, cap=False)}", True))
    signoffs = SIGNOFF[channel]
    if channel != "phone" and rng.random() < 0.45:
        closer = rng.choice([c for c in CLOSER if label != "feature_request" or c not in COMPLAINT_CLOSERS])
        body.append((closer, True))
        if re.search(r"thank|cheers|thx|\bty\b", closer, re.I):
            signoffs = [x for x in signoffs if not re.search(r"thank|cheers", x, re.I)]
    # keep tickets short: drop optional pieces at random until the body has at most 3 sentences
    while count_sentences([t for t, _ in body]) > MAX_SENTENCES and any(opt for _, opt in body):
        body.pop(rng.choice([i for i, (_, opt) in enumerate(body) if opt]))
    parts = [t for t, _ in body]
    greeting = rng.choice(GREETING[channel])
    if greeting and (channel == "phone" or rng.random() < {"email": 0.8, "chat": 0.45, "form": 0.5}[channel]):
        parts.insert(0, greeting)
    if signoffs and rng.random() < 0.45:
        parts.append(f"{rng.choice(signoffs)} {rng.choice(NAME)}")
    text = " ".join(parts)
    if channel == "chat" and rng.random() < 0.35:
        text = text.lower().rstrip(".")
    if rng.random() < 0.14:
        text = add_typos(text, rng)
    return re.sub(r"\s+", " ", text).strip()


def generate(seed: int = SEED, scale: int = 1) -> list[dict[str, str]]:
    """``scale`` × COUNTS tickets (the demo is scale 1; benchmarks use larger sets)."""
    rng = random.Random(seed)
    labels = [label for label, n in COUNTS.items() for _ in range(n * scale)]
    rng.shuffle(labels)
    seen: set[str] = set()
    rows: list[dict[str, str]] = []
    for label in labels:
        for _ in range(200):
            product = rng.choices(PRODUCTS, PRODUCT_WEIGHTS)[0]
            channel = rng.choices(CHANNELS, CHANNEL_WEIGHTS)[0]
            text = compose(label, product, channel, rng)
            key = re.sub(r"\W+", " ", text.lower()).strip()
            if 8 <= len(text.split()) <= 60 and key not in seen:
                seen.add(key)
                break
        else:
            raise RuntimeError(f"could not find a new {label} ticket; add more templates")
        rows.append({"id": f"t{len(rows) + 1:04d}", "text": text, "label": label,
                     "product": product, "channel": channel})
    return rows


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description="Write synthetic support tickets (the demo data set).")
    parser.add_argument("--scale", type=int, default=1, help="multiply the 600 demo tickets (benchmarks)")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    rows = generate(args.seed, args.scale)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=["id", "text", "label", "product", "channel"])
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {len(rows)} tickets to {args.out}")


if __name__ == "__main__":
    main()
