"""Word lists for the synthetic corpus's text (texts.py): common English words (every letter,
Q, X and Z included, many times), names, places, streets, months and words written in capitals."""

from __future__ import annotations

WORDS = tuple("""the of and to in is was he for it with as his on be at by had not are but from
or have an they which one you were her all she there would their we him been has when who will
more no if out so said what up its about into than them can only other new some could time
these two may then do first any my now such like our over man me even most made after also did
many before must through back years where much your way well down should because each just
those people how too little state good very make world still own see men work long get here
between both life being under never day same another know while last might us great old year
off come since against go came right used take three small place jump quick quiet quite question
queen quality equal square unique liquid box six fix next mix extra example text exact taxi
relax zero zone lazy size jazz puzzle maze quartz prize dozen frozen amazing citizen joy jar
just major object enjoy judge kind keep make dark book walk black thank pocket keen week
yellow yes young happy very every story early sky gave have love move seven voice river
valley flower window water town power follow fox brown dog over garden bridge village
letter paper pencil ink pen write hand line page word sentence morning evening night summer
winter spring autumn weather rain snow cloud wind light heavy table chair house street city
music song piano violin dance paint colour green blue red orange purple silver golden
always almost already around away became become began behind believe better body bring
brought building business called cannot carry case certain change children close country
course different does done door during either enough everything eyes face fact family far
feel felt few field find five four friend front full gave given going gone group half hard
head hear heard help high himself home hope hour idea important inside keep kept knew land
large later least leave left less let local looked making mean might mind minute moment money
mother need nothing number often open order others party perhaps point possible present
problem public quickly rather read ready real reason remember rest road room round school
second seemed seen several shall short show side since sometimes soon sound speak stood
such sure system taken talk tell themselves thing think though thought today together told
took toward tried true turn until upon usually view voice wait want warm watch whole whose
why wife without woman women wonder word working wrote yesterday zebra oxygen jazzy wax
awkward rhythm journey knowledge language machine nature ocean picture science travel
breakfast kitchen market office station ticket parcel coffee butter cheese bread apple
""".split())

FIRST = tuple("""Alice Anna Bella Clara David Emma Frank George Hanna Harold Iris James Kate
Lucy Maria Nina Oscar Peter Quentin Robert Sarah Thomas Ursula Victor Walter Xavier Xenia
Yvonne Zoe Quinn Wu Olga Ivan Priya Rahul Mei Kenji Aisha Omar Lena Hugo Ines Jorge Yusuf
Zara Felix Greta Jack Kevin Liam Mia Noah Paula Ruth Sven Tara Uma Vera Will Yara Zack""".split())

LAST = tuple("""Smith Jones Brown Taylor Wilson Evans Wu Lee Patel Garcia Kowalski Nguyen
Okafor Schmidt Rossi Dubois Haddad Ivanova Johansson Kim Lopez Murphy Novak Quigley Russo
Silva Tanaka Usman Vasquez Walsh Young Zhang Fox Baxter Jackson Quinn Xu Yates Zimmer""".split())

TITLES = ("Dr.", "Mr.", "Mrs.", "Ms.", "Prof.", "Sir", "Capt.", "Rev.")

PLACES = tuple("""Boston Cairo Dublin Egypt Florence Geneva India Japan Kyoto London Madrid
Naples Oslo Paris Quebec Rome Sydney Tokyo Utah Vienna Wales York Zurich Berlin Chicago Delhi
Lagos Lima Lisbon Manchester Oxford Prague Seattle Texas Toronto Warsaw Jakarta Quito""".split())

STREETS = ("Elm Street", "Oak Ave.", "Baker St.", "Main Road", "High Street", "Park Lane",
           "King's Road", "Queen St.", "Mill Lane", "Church Rd.", "5th Avenue", "Bridge St.",
           "Station Road", "Victoria Square", "Hill Drive", "West Way", "Zion Court")

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")

CAPS = ("NOTE", "URGENT", "PLEASE", "FREE", "OK", "STOP", "SALE", "NEW", "TODO", "FYI", "ASAP",
        "USA", "UK", "BBC", "NASA", "PS", "DONE", "WARNING", "IMPORTANT", "RSVP", "VIP", "EXIT",
        "QUIZ", "JAZZ", "XYZ", "PAID", "KEEP OUT", "THANK YOU", "HELLO", "MAX")

NOUNS = ("boxes", "letters", "tickets", "books", "chairs", "parcels", "keys", "plants",
         "lamps", "pens", "maps", "jars", "cakes", "forms", "photos", "quilts", "zips", "wax",
         "shoes", "cups", "bottles", "coins", "files", "invoices", "apples", "jackets")

VERBS = ("send", "bring", "move", "fix", "pack", "check", "return", "quote", "order", "mail",
         "collect", "deliver", "sign", "copy", "buy", "sell", "judge", "weigh", "print", "box")
