package demo

// Given names and family names are common in the UK; combined at random
// they make people who do not exist. Every demo profile also says it is
// fictional, and its membership numbers start with DEMO so they can never
// be mistaken for a real registrant's.
var givenNames = []string{
	"Aisha", "Alex", "Alice", "Amara", "Amelia", "Andrew", "Anna", "Arjun", "Ben", "Beth",
	"Bronwen", "Callum", "Caroline", "Catherine", "Charlotte", "Chloe", "Chris", "Claire", "Daniel", "David",
	"Deborah", "Declan", "Eilidh", "Eleanor", "Elena", "Emily", "Emma", "Erin", "Fatima", "Fiona",
	"Gareth", "Grace", "Hannah", "Harriet", "Helen", "Imran", "Isla", "James", "Jane", "Jasmine",
	"Joanna", "John", "Jonathan", "Joseph", "Julia", "Kate", "Katie", "Kwame", "Laura", "Leah",
	"Lucy", "Mairi", "Maria", "Mark", "Marta", "Matthew", "Megan", "Michael", "Mohammed", "Naomi",
	"Nia", "Nicola", "Niamh", "Oliver", "Olivia", "Omar", "Patrick", "Paul", "Priya", "Rachel",
	"Rebecca", "Rhys", "Richard", "Robert", "Rosa", "Ruth", "Sam", "Sarah", "Siobhan", "Simon",
	"Sophie", "Stephen", "Susan", "Tariq", "Thomas", "Tom", "Yasmin", "Zainab", "Zoe", "Ewa",
}

var familyNames = []string{
	"Adams", "Ahmed", "Ali", "Allen", "Anderson", "Bailey", "Baker", "Begum", "Bell", "Bennett",
	"Brown", "Campbell", "Carter", "Chapman", "Clark", "Clarke", "Collins", "Cook", "Cooper", "Cox",
	"Davies", "Dixon", "Doherty", "Edwards", "Ellis", "Evans", "Fernandes", "Fisher", "Fraser", "Gill",
	"Graham", "Green", "Griffiths", "Hall", "Harris", "Harrison", "Hill", "Hughes", "Hussain", "Jackson",
	"James", "Jenkins", "Johnson", "Jones", "Kaur", "Kelly", "Khan", "King", "Kowalski", "Lee",
	"Lewis", "Lloyd", "MacDonald", "Marshall", "Martin", "Mason", "Mitchell", "Moore", "Morgan", "Morris",
	"Murphy", "Murray", "Nowak", "O'Brien", "Okafor", "Owen", "Parker", "Patel", "Phillips", "Powell",
	"Price", "Reid", "Richards", "Roberts", "Robertson", "Robinson", "Rogers", "Ross", "Scott", "Shah",
	"Shaw", "Simpson", "Singh", "Smith", "Stewart", "Taylor", "Thomas", "Thompson", "Turner", "Walker",
	"Walsh", "Ward", "Watson", "White", "Williams", "Wilson", "Wood", "Wright", "Young", "Zielinski",
}

// Opening sentences of a statement.
var openings = []string{
	"Reaching out to a therapist can feel like a big step, and I want our first conversation to feel unhurried and safe.",
	"Many people come to me when something that used to work no longer does, and they are not sure why.",
	"You might be carrying something you have never said out loud. Therapy is a place to begin.",
	"I offer a confidential space to think, to feel and to make sense of what is happening in your life.",
	"Whatever brings you here, you will be met with warmth, curiosity and respect.",
	"Sometimes life becomes heavy in ways that are hard to explain to friends or family.",
	"I believe that understanding where our difficulties come from can loosen their grip on us.",
	"It is not always easy to know what kind of help you need. We can work that out together.",
}

// Sentences about the way of working; %s is an approach label.
var methods = []string{
	"My main training is in %s, and I adapt it to each person rather than applying a formula.",
	"I work mainly with %s, drawing on other ideas where they help.",
	"My practice is grounded in %s, which I have studied and practised for many years.",
	"I trained in %s and continue to take specialist supervision in it.",
	"We will use %s to look at patterns that may have started long ago and still shape the present.",
}

// Sentences about issues; %s is a list of issue labels.
var focuses = []string{
	"I often work with people experiencing %s.",
	"Clients come to me with a range of concerns, including %s.",
	"I have particular experience of supporting people with %s.",
	"Much of my work involves %s.",
}

// Closing sentences.
var closings = []string{
	"We begin with an initial session in which you can ask questions and see whether we are a good fit.",
	"Sessions last fifty minutes and we will agree together how often to meet.",
	"I offer a free fifteen-minute phone call before we decide whether to work together.",
	"Short-term and open-ended work are both possible; we can review how things are going at any point.",
	"I am happy to answer any questions you have before you decide to book.",
}

var levels = map[string][]string{
	"bacp":  {"Registered member MBACP", "Accredited member MBACP (Accred)", "Senior accredited member"},
	"ukcp":  {"UKCP registered psychotherapist", "UKCP accredited psychotherapeutic counsellor"},
	"ncps":  {"Registrant member", "Accredited registrant", "Senior accredited registrant"},
	"bpc":   {"Registered psychoanalytic psychotherapist", "Registered psychodynamic psychotherapist"},
	"cosca": {"Registered counsellor", "Accredited counsellor"},
	"hcpc":  {"Registered practitioner psychologist (counselling psychologist)", "Registered practitioner psychologist (clinical psychologist)", "Registered arts therapist"},
	"babcp": {"Accredited CBT psychotherapist"},
	"acc":   {"Registered member", "Accredited counsellor"},
}

// Weighted vocabularies. Weights are rough shares in UK directories.
var approachWeights = map[string]int{
	"integrative": 30, "person-centred": 28, "cbt": 20, "psychodynamic": 18, "humanistic": 14,
	"psychoanalytic": 6, "istdp": 2, "dit": 2, "brief-psychodynamic": 4, "jungian": 2, "gestalt": 5,
	"transactional-analysis": 5, "emdr": 7, "dbt": 3, "schema": 3, "mentalization-based": 2,
	"systemic-family": 4, "solution-focused": 6, "compassion-focused": 6, "existential": 4, "act": 6,
	"cognitive-analytic": 3, "interpersonal": 2, "mindfulness-based": 6, "narrative": 2, "psychosynthesis": 2,
	"attachment-based": 3, "group-analytic": 1, "arts-therapies": 2, "play-therapy": 2, "body-psychotherapy": 2,
	"psychosexual": 2, "transference-focused": 1, "coherence-therapy": 1,
}

var issueWeights = map[string]int{
	"anxiety": 40, "depression": 36, "stress": 30, "low-self-esteem": 24, "relationship-difficulties": 20,
	"bereavement": 20, "trauma": 16, "childhood-trauma": 12, "ptsd": 8, "panic": 10, "loneliness": 8,
	"loss-of-meaning": 6, "eating-disorders": 5, "personality-disorders": 4, "sexual-issues": 4,
	"addiction": 6, "ocd": 5, "phobias": 6, "self-harm": 5, "suicidal-thoughts": 5, "social-anxiety": 8,
	"health-anxiety": 5, "anger": 6, "domestic-abuse": 5, "sexual-abuse": 4, "bipolar": 2, "perinatal": 3,
	"pregnancy-loss": 2, "infertility": 2, "gender-identity": 3, "sexuality": 4, "adhd": 3, "autism": 3,
	"dissociation": 2, "sleep-problems": 3, "long-term-health": 4, "family-problems": 8,
	"separation-divorce": 6, "parenting": 4, "gambling": 1, "body-image": 3, "work-burnout": 10,
	"bullying": 3, "shame-guilt": 5, "life-transitions": 8, "racism-discrimination": 2, "carers": 3,
	"menopause": 2, "psychosis": 1, "perfectionism": 4,
}

var secondLanguages = []string{"pl", "ur", "pa", "bn", "gu", "ar", "fr", "es", "de", "it", "pt", "ro", "tr", "so", "fa", "hi", "ta", "zh", "el", "lt"}
