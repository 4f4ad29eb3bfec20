"""Word lists for the synthetic demo community. Every person and group is made up."""

FIRST_NAMES = (
    "Maria", "Jose", "Juan", "Guadalupe", "Luis", "Carmen", "Rosa", "Miguel", "Ana", "Jesus",
    "Alejandro", "Sofia", "Diego", "Valeria", "Carlos", "Lucia", "Javier", "Elena", "Ricardo",
    "Ximena", "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda",
    "David", "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica",
    "Thomas", "Sarah", "Charles", "Karen", "Darnell", "Keisha", "Tyrone", "Latoya", "DeShawn",
    "Imani", "Jamal", "Aaliyah", "Marcus", "Tanisha", "Andre", "Shanice", "Terrence", "Ebony",
    "Malik", "Jasmine", "Reginald", "Monique", "Cedric", "Tamika", "Piotr", "Katarzyna",
    "Tomasz", "Agnieszka", "Krzysztof", "Magdalena", "Pawel", "Ewa", "Wei", "Mei", "Jian",
    "Xiu", "Hao", "Lan", "Min", "Ying", "Mohammed", "Fatima", "Ahmed", "Aisha", "Omar",
    "Layla", "Yusuf", "Mariam", "Khalid", "Noor", "Priya", "Rahul", "Anjali", "Vikram",
    "Deepa", "Arjun", "Sunita", "Ravi", "Nguyen", "Linh", "Minh", "Thao", "Chinedu", "Ngozi",
    "Oluwaseun", "Adaeze", "Kwame", "Abena", "Tesfaye", "Selam", "Dawit", "Hana", "Olena",
    "Oleksandr", "Iryna", "Bohdan", "Sean", "Siobhan", "Patrick", "Aoife", "Jae-won",
    "Min-ji", "Seo-yeon", "Ji-ho", "Rafael", "Marisol", "Esteban", "Yesenia", "Hector",
    "Beatriz", "Dolores", "Ignacio", "Gloria", "Ernesto", "Emily", "Noah", "Olivia", "Liam",
    "Ava", "Ethan", "Mia", "Mason", "Chloe", "Lucas", "Grace", "Henry", "Zoe", "Samuel",
    "Nora", "Isaac", "Ruth", "Walter", "Dorothy", "Harold", "Bernice", "Eugene", "Mildred",
)

LAST_NAMES = (
    "Garcia", "Rodriguez", "Martinez", "Hernandez", "Lopez", "Gonzalez", "Perez", "Sanchez",
    "Ramirez", "Torres", "Flores", "Rivera", "Gomez", "Diaz", "Reyes", "Morales", "Cruz",
    "Ortiz", "Gutierrez", "Chavez", "Smith", "Johnson", "Williams", "Brown", "Jones", "Miller",
    "Davis", "Wilson", "Anderson", "Taylor", "Thomas", "Moore", "Jackson", "Martin", "Lee",
    "Thompson", "White", "Harris", "Clark", "Lewis", "Robinson", "Walker", "Young", "Allen",
    "King", "Wright", "Scott", "Green", "Baker", "Adams", "Nelson", "Hill", "Campbell",
    "Mitchell", "Roberts", "Carter", "Phillips", "Evans", "Turner", "Washington", "Jefferson",
    "Banks", "Booker", "Freeman", "Gaines", "Hairston", "Mayfield", "Pruitt", "Whitfield",
    "Nowak", "Kowalski", "Wisniewski", "Wojcik", "Kaminski", "Lewandowski", "Zielinski",
    "Szymanski", "Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu", "Zhou",
    "Khan", "Ali", "Hussein", "Rahman", "Haddad", "Nasser", "Saleh", "Mansour", "Patel",
    "Shah", "Singh", "Kumar", "Desai", "Mehta", "Reddy", "Iyer", "Tran", "Pham", "Le", "Vu",
    "Okafor", "Adeyemi", "Okonkwo", "Mensah", "Boateng", "Bekele", "Haile", "Tadesse",
    "Shevchenko", "Kovalenko", "Bondarenko", "Murphy", "O'Brien", "Kelly", "Sullivan",
    "Kim", "Park", "Choi", "Jung", "Kang", "Castillo", "Vargas", "Romero", "Mendoza", "Ruiz",
    "Alvarez", "Jimenez", "Moreno", "Herrera", "Medina", "Aguilar", "Delgado", "Castro",
    "Ortega", "Rubio", "Fischer", "Schmidt", "Weber", "Novak", "Horvat", "Russo", "Romano",
)

STREETS = {
    "chicago": (
        "Pulaski", "Cermak", "Kedzie", "Halsted", "Ashland", "Western", "Damen", "Madison",
        "Roosevelt", "Ogden", "Cicero", "Lawrence", "Devon", "Belmont", "Fullerton", "Division",
        "Chicago Avenue", "Garfield", "79th Street", "63rd Street", "86th Street", "95th Street",
        "Stony Island", "Cottage Grove", "King Drive", "Archer", "Milwaukee", "Clark",
        "Broadway", "Sheridan", "Irving Park", "Montrose", "Harlem", "Central Park",
        "26th Street", "47th Street", "55th Street", "103rd Street", "Kostner", "Homan",
    ),
    "charlottesville": (
        "Main Street", "Preston Avenue", "Cherry Avenue", "Ridge Street", "Market Street",
        "Rose Hill Drive", "Emmet Street", "Jefferson Park Avenue", "Monticello Avenue",
        "Avon Street", "Hinton Avenue", "Grady Avenue", "Locust Avenue", "Rugby Road",
        "10th Street", "14th Street", "Elliott Avenue", "Harris Street", "Barracks Road",
        "High Street", "Water Street", "Garrett Street", "Prospect Avenue", "Fifeville Road",
    ),
}

SAINTS = ("Agatha", "Anthony", "Sabina", "Columbanus", "Casimir", "Hedwig", "Rita",
          "Martin de Porres", "Jude", "Ann", "Bridget", "Adalbert", "Francis", "Pius",
          "Michael", "Joseph", "Kilian", "Mary", "Teresa", "Benedict", "Augustine", "Brendan")

CULTURES = ("Mexican", "Puerto Rican", "Polish", "Korean", "Ethiopian", "Filipino", "Haitian",
            "Vietnamese", "Nigerian", "Irish", "Ukrainian", "Palestinian", "Guatemalan",
            "Chinese", "Indian", "Ghanaian", "Somali", "Bosnian", "Salvadoran", "Assyrian")

# {hood}: neighbourhood, {street}/{street2}: street names, {beat}: beat code,
# {saint}, {surname}, {culture}.
GROUP_TEMPLATES = {
    "geographic": ("{street} Block Club", "{hood} Neighbors", "{street} & {street2} Block Association",
                   "{hood} Residents Council", "{hood} Homeowners Association",
                   "{street} Corridor Neighbors", "Beat {beat} Block Captains",
                   "{hood} Community Council"),
    "demographic": ("{hood} Seniors Club", "{hood} Young Parents Network", "Veterans of {hood}",
                    "{hood} Women's Circle", "{hood} Retirees Association",
                    "LGBTQ+ Neighbors of {hood}", "{hood} Grandparents Raising Grandchildren",
                    "{hood} Disability Access Group"),
    "cultural": ("{hood} {culture} Cultural Center", "{culture} Heritage Society of {hood}",
                 "{hood} {culture} Mutual Aid", "{culture} Community Association of {hood}"),
    "faith": ("St. {saint} Parish", "{hood} Masjid", "{hood} Missionary Baptist Church",
              "Greater {surname} AME Church", "{hood} Synagogue", "{hood} Gurdwara",
              "Iglesia Cristiana {hood}", "New Hope Fellowship of {hood}",
              "{street} Church of God in Christ", "{surname} Memorial Temple"),
    "business": ("{street} Business Association", "{hood} Chamber of Commerce",
                 "{street} Merchants Alliance", "{hood} Restaurant & Bar Owners",
                 "{street} Street Vendors Collective", "{hood} Small Business Network"),
    "tenants": ("{hood} Tenants Union", "{street} Apartments Tenants Association",
                "{surname} Homes Residents Council", "{hood} Renters Coalition",
                "{street} Towers Tenants Committee"),
    "youth": ("Youth Basketball League of Beat {beat}", "{hood} Youth Council",
              "{hood} Boys & Girls Club", "{street} Teen Center", "{hood} Youth Soccer Club",
              "{hood} Youth Arts Collective", "{hood} Summer Jobs Crew"),
    "advocacy": ("{hood} for Police Accountability", "{hood} Safe Streets Coalition",
                 "Mothers Against Violence of {hood}", "{hood} Immigrant Rights Committee",
                 "{hood} Housing Justice Alliance", "{hood} Restorative Justice Circle",
                 "{street} Traffic Safety Campaign"),
    "agency": ("{hood} Elementary School", "{surname} High School",
               "{hood} Community Mental Health Center", "{hood} Public Library Branch",
               "{hood} Family Services Office", "{hood} Park Fieldhouse",
               "{hood} Health Clinic", "{hood} Violence Interruption Program"),
    "informal": ("{street} Corner Regulars", "{hood} Dog Walkers", "{hood} Parents Group Chat",
                 "{street} Barbershop Crowd", "{hood} Park Chess Players",
                 "Night Shift Workers of {hood}", "{street} Car Club"),
    "other": ("{hood} Community Garden", "{hood} Food Pantry", "{hood} Historical Society",
              "{hood} Arts Collective", "{street} Bike Co-op"),
}

GROUP_DESCRIPTIONS = {
    "geographic": "Residents of a few blocks who meet monthly about street conditions.",
    "demographic": "People who share a stage of life and look out for each other.",
    "cultural": "A cultural community with its own events, language and elders.",
    "faith": "A congregation with weekly services, a food programme and a hall that hosts meetings.",
    "business": "Owners and managers of the shops, bars and restaurants along the corridor.",
    "tenants": "Tenants organising about repairs, rents and building safety.",
    "youth": "Young people and the adults who coach and mentor them.",
    "advocacy": "Organisers who press the city and the police on policy and accountability.",
    "agency": "A partner agency: a wraparound service the officers can refer people to.",
    "informal": "A loose network without officers or minutes, reached through regulars.",
    "other": "A neighbourhood initiative run by volunteers.",
}

LANGUAGES = {
    "chicago": (("en", 0.62), ("es", 0.22), ("pl", 0.04), ("zh", 0.03), ("ar", 0.03),
                ("ko", 0.02), ("vi", 0.02), ("uk", 0.02)),
    "charlottesville": (("en", 0.80), ("es", 0.10), ("ar", 0.03), ("sw", 0.03), ("ne", 0.02),
                        ("zh", 0.02)),
}

AGENCIES = {
    "chicago": ("Department of Streets and Sanitation", "Department of Buildings",
                "Chicago Public Schools", "Department of Family and Support Services",
                "Chicago Park District", "Chicago Department of Transportation",
                "Department of Public Health", "Chicago Housing Authority"),
    "charlottesville": ("Public Works", "Charlottesville City Schools",
                        "Department of Social Services", "Parks and Recreation",
                        "Neighborhood Development Services", "Region Ten Community Services",
                        "Charlottesville Area Transit"),
}

PLACES = ("community room", "corner store", "park fieldhouse", "church hall", "bus stop",
          "school entrance", "laundromat", "library meeting room", "block party", "front porch",
          "parking lot", "basketball court", "bar patio", "apartment lobby", "food pantry")

PURPOSES = {
    "proactive": ("introduce myself as the beat officer", "check in on block concerns",
                  "follow up on last meeting", "invite to beat community meeting",
                  "ask about the summer programme", "listen to concerns about traffic"),
    "requested": ("resident asked about speeding on the block", "asked for a meeting about the vacant lot",
                  "requested help with a landlord dispute", "asked about safety at the bus stop",
                  "invited us to their monthly meeting"),
    "reactive": ("responded to a noise call", "responded to a disturbance call",
                 "call for service: suspicious vehicle", "call for service: dispute in the park",
                 "responded to a burglary report"),
}

NOTES = (
    "Listened first; they named three concerns and we agreed to meet again.",
    "Tense at the start; acknowledged past experiences and the tone eased.",
    "Shared the beat meeting flyer; two members said they would come.",
    "They asked for more visible foot patrol on weekend evenings.",
    "Named what the group already does well before raising the noise complaints.",
    "Explained what we can and cannot do about the landlord issue; referred to housing services.",
    "Ambivalent about working with police; said that is understandable and left the door open.",
    "Set a boundary about filming inside the building; conversation stayed respectful.",
    "Offered an off-ramp to the argument; both sides walked away calmly.",
    "Brief chat; no new issues.",
    "They want the lighting on the corner fixed; will pass it to the city.",
    "Leader introduced me to two people from the tenants' association.",
    "Youth coach asked for a pick-up game with officers next month.",
    "Shop owners worried about late-night crowds; residents not present.",
    "Follow-up on the abandoned car: towed last week, they were pleased.",
)

FOLLOW_UP_NOTES = ("call back about the meeting date", "send the city's answer on lighting",
                   "bring flyers for the youth event", "check whether the car was towed",
                   "introduce to the district's youth officer", "ask the landlord about repairs")

CONSENT_METHODS = ("verbal, noted by officer", "signed form", "email reply", "online form")

PROBLEMS = (
    ("Late-night noise outside bars on {street}", "Residents report shouting and fights at closing time; bar owners say the crowds are not theirs."),
    ("Speeding on {street}", "Cars race between the lights; parents are afraid for children walking to school."),
    ("Dumping in the vacant lot near {street}", "Mattresses, tyres and trash pile up; rats reported in neighbouring yards."),
    ("Conflict over the park at night in {hood}", "Young people gather after dark; neighbours complain, youth say there is nowhere else to go."),
    ("Package thefts in {hood} apartment lobbies", "Tenants lose deliveries weekly; the management company has not changed the entry system."),
    ("Open-air drug sales at {street} and {street2}", "Sales on the corner intimidate shoppers; the store owner feels caught between sellers and customers."),
    ("Abandoned cars on side streets of {hood}", "Dozens of cars sit for weeks, blocking street cleaning and hiding other problems."),
    ("Harassment at the {street} bus stop", "Riders, mostly women and seniors, report being followed and harassed in the evening."),
    ("Street vending disputes on {street}", "Vendors and shop owners argue about space and permits every weekend."),
    ("Break-ins at {hood} places of worship", "Three congregations had break-ins this season; members are afraid to hold evening events."),
)

IDEAS = ("Better lighting on the corner", "A youth night at the fieldhouse on Fridays",
         "Neighbours walk the block together on weekend evenings", "Ask the city for speed humps",
         "A quiet-hours agreement signed by the bars", "Mural on the wall that keeps getting tagged",
         "Lockers for packages in the lobby", "Monthly clean-up with the block club",
         "More patrol cars on the corner", "Cameras on every light pole",
         "Close the park at dusk", "Late-night bus shelter with a help button")

DECLINE_REASONS = ("Not within what the city can fund this year; will revisit in the spring.",
                   "Would push the problem one block over without solving it.",
                   "Conflicts with the park's youth programme; discussed with the proposer.",
                   "Surveillance of this kind is not something the department will do here.")

ACTIONS = {
    "officer": ("Walk the corridor at closing time for four weeks",
                "Pull calls-for-service data for the last year",
                "Invite both sides to a joint meeting", "Check in weekly with the store owner"),
    "stakeholder": ("Collect signatures from residents for the city request",
                    "Count cars on the block for two weeks", "Host the first meeting at home",
                    "Talk to the young people who use the court"),
    "group": ("Organise a clean-up day", "Draft the quiet-hours agreement",
              "Run the youth night at the fieldhouse", "Survey members about safety at night"),
    "agency": ("Tow abandoned vehicles", "Repair the street lights", "Install speed humps",
               "Inspect the vacant building", "Extend fieldhouse opening hours"),
}

MEASURES = (("Calls for service about the problem", "calls / month"),
            ("Residents who feel safe walking at night", "% of survey"),
            ("Complaints to the alderman's office", "complaints / month"),
            ("Incidents observed by block captains", "incidents / week"))

ALLIED_ISSUES = ("co-host National Night Out", "shared youth programming", "joint park clean-ups",
                 "food pantry partnership", "share meeting space", "joint safety walks")
COMPETING_ISSUES = ("late-night noise vs bar licences", "use of the park after dark",
                    "redevelopment and rising rents", "street vending permits vs storefront shops",
                    "parking during services vs loading zones", "shelter siting on the block",
                    "police presence: more patrols vs fewer stops", "short-term rentals vs tenants")
OVERLAPPING_ISSUES = ("shared territory", "members overlap: same blocks",
                      "the group meets in the other's hall", "one is a chapter of the other")

COPING = ("talked it through with my partner", "took a short walk before the next call",
          "breathing exercise", "wrote it down and moved on", "called a peer support officer",
          "")
