"""The values the benchmarks seed their databases with (shared by bench/pages.py and bench/search.py)."""

DIVISIONS = [
    "Central",
    "Eastway",
    "Freedom",
    "Hickory Grove",
    "Independence",
    "Metro",
    "North",
    "North Tryon",
    "Providence",
    "South",
    "Steele Creek",
    "University City",
    "Westover",
]
FIRST = "Daniel Maria James Aisha Robert Keisha Luis Emily Marcus Sofia Kevin Grace Andre Nina Tom".split()
LAST = (
    "Reyes Okafor Smith Nguyen Johnson Patel Garcia Brown Kim Williams Lopez Davis Martin Clark "
    "Lewis Walker Young Allen King Wright Scott Green Baker Adams Nelson Hill"
).split()
CATEGORIES = ["de-escalation", "community-engagement", "life-saving"]
STAGES = ["probe", "thumbnails", "proxy", "transcript", "recognize"]
ASSETS = [
    ("poster.jpg", "image/jpeg"),
    ("sprite.jpg", "image/jpeg"),
    ("thumbnails.vtt", "text/vtt"),
    ("proxy.mp4", "video/mp4"),
    ("captions.vtt", "text/vtt"),
    ("transcript.json", "application/json"),
]
