"""A small hand-written sentiment set for the real-model tests: 8 labelled demonstrations and 40
test sentences (20 positive, 20 negative), short and unambiguous, written for these tests."""

from __future__ import annotations

LABELS = ["positive", "negative"]

DEMOS: list[tuple[str, str]] = [
    ("I loved every minute of this film, the acting was superb.", "positive"),
    ("A warm, funny and beautifully shot story.", "positive"),
    ("The best concert I have been to in years.", "positive"),
    ("This phone works perfectly and the battery lasts for days.", "positive"),
    ("A boring, badly written mess that I regret watching.", "negative"),
    ("The food was cold and the waiter was rude.", "negative"),
    ("It broke after two days and support never replied.", "negative"),
    ("The worst hotel stay of my life, dirty and loud.", "negative"),
]

ITEMS: list[tuple[str, str]] = [
    ("What a wonderful surprise, I enjoyed it from start to finish.", "positive"),
    ("The staff were friendly and the room was spotless.", "positive"),
    ("An excellent book that I could not put down.", "positive"),
    ("Great value for the price, I would buy it again.", "positive"),
    ("The soundtrack is gorgeous and the ending made me smile.", "positive"),
    ("Fast delivery and the shoes fit perfectly.", "positive"),
    ("A delightful evening with delicious food.", "positive"),
    ("This app makes my life so much easier, thank you!", "positive"),
    ("The performances are brilliant and moving.", "positive"),
    ("I am very happy with this purchase.", "positive"),
    ("A charming little cafe with the best coffee in town.", "positive"),
    ("The tour guide was fantastic and very knowledgeable.", "positive"),
    ("Such a fun game, my kids love it.", "positive"),
    ("Beautiful design and it feels really solid.", "positive"),
    ("The course was clear, useful and well organised.", "positive"),
    ("Highly recommended, an absolute joy to read.", "positive"),
    ("Comfortable seats and a smooth, quiet ride.", "positive"),
    ("The new update is a big improvement, everything is faster.", "positive"),
    ("A touching and hopeful film with a great cast.", "positive"),
    ("Lovely people, great music, a perfect night out.", "positive"),
    ("Terrible service, we waited an hour for nothing.", "negative"),
    ("The plot makes no sense and the dialogue is awful.", "negative"),
    ("It stopped working after a week, total waste of money.", "negative"),
    ("The room smelled bad and the shower was broken.", "negative"),
    ("A dull, lifeless film that drags on forever.", "negative"),
    ("The package arrived damaged and parts were missing.", "negative"),
    ("I hated the ending, it ruined the whole story.", "negative"),
    ("The app crashes every time I open it.", "negative"),
    ("Overpriced, bland food and a dirty table.", "negative"),
    ("The customer support was useless and unfriendly.", "negative"),
    ("Cheap plastic that cracked on the first day.", "negative"),
    ("A painfully slow and confusing course.", "negative"),
    ("The flight was delayed and they lost my luggage.", "negative"),
    ("Very disappointing, nothing like the pictures.", "negative"),
    ("The sound quality is poor and the battery dies quickly.", "negative"),
    ("I want my money back, this is a scam.", "negative"),
    ("The actors seem bored and so was I.", "negative"),
    ("Noisy neighbours, thin walls and no hot water.", "negative"),
    ("The update made everything slower and buggier.", "negative"),
    ("An unpleasant experience I would not wish on anyone.", "negative"),
]
