//! Static vocabularies: cities, applications, names, device profiles and Duo's enums.

pub struct City {
    pub city: &'static str,
    pub state: &'static str,
    pub country: &'static str,
    /// First two octets of the (fictional but routable-looking) address block used there.
    pub net: [u8; 2],
}

macro_rules! city {
    ($c:expr, $s:expr, $k:expr, $a:expr, $b:expr) => {
        City {
            city: $c,
            state: $s,
            country: $k,
            net: [$a, $b],
        }
    };
}

pub const CITIES: &[City] = &[
    city!("New York", "New York", "United States", 72, 229),
    city!("San Francisco", "California", "United States", 98, 207),
    city!("Chicago", "Illinois", "United States", 73, 44),
    city!("Austin", "Texas", "United States", 66, 68),
    city!("Seattle", "Washington", "United States", 50, 35),
    city!("Boston", "Massachusetts", "United States", 24, 61),
    city!("Denver", "Colorado", "United States", 67, 176),
    city!("Atlanta", "Georgia", "United States", 99, 120),
    city!("Ann Arbor", "Michigan", "United States", 35, 1),
    city!("Toronto", "Ontario", "Canada", 99, 224),
    city!("Vancouver", "British Columbia", "Canada", 24, 85),
    city!("London", "England", "United Kingdom", 81, 2),
    city!("Manchester", "England", "United Kingdom", 86, 14),
    city!("Dublin", "Leinster", "Ireland", 89, 101),
    city!("Paris", "Ile-de-France", "France", 90, 63),
    city!("Berlin", "Berlin", "Germany", 91, 64),
    city!("Munich", "Bavaria", "Germany", 93, 104),
    city!("Amsterdam", "North Holland", "Netherlands", 145, 53),
    city!("Madrid", "Madrid", "Spain", 83, 44),
    city!("Stockholm", "Stockholm", "Sweden", 78, 72),
    city!("Tokyo", "Tokyo", "Japan", 126, 48),
    city!("Singapore", "Central Singapore", "Singapore", 116, 86),
    city!("Sydney", "New South Wales", "Australia", 101, 160),
    city!("Bengaluru", "Karnataka", "India", 106, 51),
    city!("Sao Paulo", "Sao Paulo", "Brazil", 177, 12),
    city!("Mexico City", "Mexico City", "Mexico", 187, 189),
    city!("Bucharest", "Bucuresti", "Romania", 86, 120),
    city!("Lagos", "Lagos", "Nigeria", 105, 112),
    city!("Moscow", "Moscow", "Russia", 95, 165),
    city!("Frankfurt am Main", "Hesse", "Germany", 185, 220),
];

/// Where background (scenario-free) users live: domestic offices plus a few abroad.
pub const HOME_CITIES: &[usize] = &[0, 1, 2, 3, 4, 5, 6, 7, 8, 0, 1, 0, 9, 11, 14, 15];

pub fn city_index(name: &str) -> usize {
    CITIES.iter().position(|c| c.city == name).unwrap_or(0)
}

pub const APPS: &[&str] = &[
    "Microsoft 365",
    "Okta SSO",
    "Cisco AnyConnect VPN",
    "Salesforce",
    "Workday",
    "GitHub Enterprise",
    "AWS Console",
    "Zoom",
    "Slack",
    "Jira Cloud",
    "Confluence",
    "ServiceNow",
    "Windows Logon (RDP)",
    "Linux SSH Bastion",
    "Box",
];

pub const FIRST_NAMES: &[&str] = &[
    "alice", "bob", "carol", "david", "emma", "farid", "grace", "hiro", "ines", "jamal", "keiko",
    "liam", "maria", "noah", "olivia", "pedro", "quinn", "rosa", "sanjay", "tara", "uma", "victor",
    "wei", "ximena", "yusuf", "zoe", "anna", "ben", "chloe", "diego", "elena", "finn", "gita",
    "hannah", "ivan", "julia", "kofi", "lena", "marco", "nadia",
];

pub const LAST_NAMES: &[&str] = &[
    "smith", "nguyen", "garcia", "kim", "patel", "johnson", "muller", "rossi", "tanaka", "silva",
    "brown", "lopez", "wilson", "martin", "lee", "walker", "hall", "young", "king", "wright",
    "scott", "green", "baker", "adams", "nelson", "hill", "campbell", "mitchell", "roberts",
    "carter", "phillips", "evans", "turner", "torres", "parker", "collins", "edwards", "stewart",
    "morris", "murphy",
];

pub struct DeviceProfile {
    pub os: &'static str,
    pub os_version: &'static str,
    pub browser: &'static str,
    pub browser_version: &'static str,
}

macro_rules! profile {
    ($o:expr, $ov:expr, $b:expr, $bv:expr) => {
        DeviceProfile {
            os: $o,
            os_version: $ov,
            browser: $b,
            browser_version: $bv,
        }
    };
}

pub const PROFILES: &[DeviceProfile] = &[
    profile!("Windows", "10", "Chrome", "126.0.6478.127"),
    profile!("Windows", "11", "Edge Chromium", "126.0.2592.87"),
    profile!("Mac OS X", "14.5", "Chrome", "126.0.6478.127"),
    profile!("Mac OS X", "14.5", "Safari", "17.5"),
    profile!("Mac OS X", "13.6.7", "Firefox", "127.0"),
    profile!("Windows", "11", "Chrome", "125.0.6422.142"),
    profile!("Linux", "", "Firefox", "127.0"),
    profile!("iOS", "17.5.1", "Mobile Safari", "17.5"),
    profile!("Android", "14", "Chrome Mobile", "126.0.6478.122"),
    profile!("Chrome OS", "15886.44.0", "Chrome", "126.0.6478.132"),
];

pub struct PhoneModel {
    pub platform: &'static str,
    pub model: &'static str,
}

pub const PHONE_MODELS: &[PhoneModel] = &[
    PhoneModel {
        platform: "Apple iOS",
        model: "iPhone 15",
    },
    PhoneModel {
        platform: "Apple iOS",
        model: "iPhone 13",
    },
    PhoneModel {
        platform: "Apple iOS",
        model: "iPhone 14 Pro",
    },
    PhoneModel {
        platform: "Google Android",
        model: "Pixel 8",
    },
    PhoneModel {
        platform: "Google Android",
        model: "Galaxy S23",
    },
];

/// Auth log `factor` values. `WebAuthn Security Key` is spelled the way Duo's v2 logs
/// show WebAuthn factors (free text, not snake_case): collectors must map it.
pub const FACTORS: &[&str] = &[
    "duo_push",
    "phone_call",
    "sms_passcode",
    "duo_mobile_passcode",
    "hardware_token",
    "WebAuthn Security Key",
    "bypass_code",
    "remembered_device",
    "not_available",
    "passcode",
];
pub mod factor {
    pub const PUSH: u8 = 0;
    pub const PHONE_CALL: u8 = 1;
    pub const SMS: u8 = 2;
    pub const MOBILE_OTP: u8 = 3;
    pub const TOKEN: u8 = 4;
    pub const WEBAUTHN: u8 = 5;
    pub const BYPASS_CODE: u8 = 6;
    pub const REMEMBERED: u8 = 7;
    pub const NOT_AVAILABLE: u8 = 8;
    pub const PASSCODE: u8 = 9;
}

pub const RESULTS: &[&str] = &["success", "denied", "error", "fraud"];
pub mod result {
    pub const SUCCESS: u8 = 0;
    pub const DENIED: u8 = 1;
    pub const ERROR: u8 = 2;
    pub const FRAUD: u8 = 3;
}

pub const REASONS: &[&str] = &[
    "user_approved",
    "valid_passcode",
    "remembered_device",
    "bypass_user",
    "allowed_by_policy",
    "allow_unenrolled_user",
    "user_mistake",
    "no_response",
    "user_cancelled",
    "invalid_passcode",
    "denied_by_policy",
    "user_not_in_permitted_group",
    "anomalous_push",
    "locked_out",
    "anonymous_ip",
    "no_disk_encryption",
    "endpoint_is_not_trusted",
    "user_marked_fraud",
    "error",
    "deny_unenrolled_user",
    "user_disabled",
    "call_timed_out",
];
pub mod reason {
    pub const USER_APPROVED: u8 = 0;
    pub const VALID_PASSCODE: u8 = 1;
    pub const REMEMBERED_DEVICE: u8 = 2;
    pub const BYPASS_USER: u8 = 3;
    pub const ALLOWED_BY_POLICY: u8 = 4;
    pub const ALLOW_UNENROLLED: u8 = 5;
    pub const USER_MISTAKE: u8 = 6;
    pub const NO_RESPONSE: u8 = 7;
    pub const USER_CANCELLED: u8 = 8;
    pub const INVALID_PASSCODE: u8 = 9;
    pub const DENIED_BY_POLICY: u8 = 10;
    pub const NOT_IN_GROUP: u8 = 11;
    pub const ANOMALOUS_PUSH: u8 = 12;
    pub const LOCKED_OUT: u8 = 13;
    pub const ANONYMOUS_IP: u8 = 14;
    pub const NO_DISK_ENCRYPTION: u8 = 15;
    pub const USER_MARKED_FRAUD: u8 = 17;
    pub const ERROR: u8 = 18;
    pub const CALL_TIMED_OUT: u8 = 21;
}

pub const GROUPS: &[&str] = &[
    "Employees",
    "Engineering",
    "Sales",
    "Finance",
    "IT Admins",
    "Contractors",
];
