//! Unit tests of the parent module.
//! One test per detector: a fake credential of that kind is found (and
//! its id reported), and a look-alike is not. Credentials are assembled
//! at run time from a seeded generator: no literal in this file is a
//! token any secret scanner would flag.
use super::super::scan_text;

const ALNUM: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const UPPER_DIGITS: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const HEX: &str = "0123456789abcdef";
const B64: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const URLSAFE: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
const DIGITS: &str = "0123456789";
const LETTERS: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// `n` characters from `alphabet`, from a seeded xorshift generator.
fn r(seed: u64, n: usize, alphabet: &str) -> String {
    let a = alphabet.as_bytes();
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            a[usize::try_from(x % a.len() as u64).expect("below the length")] as char
        })
        .collect()
}

/// The detector ids found in `text` (file `name`).
fn ids(name: &str, text: &str) -> Vec<&'static str> {
    scan_text(name, text)
        .into_iter()
        .map(|f| f.detector)
        .collect()
}

fn found(id: &str, name: &str, text: &str) {
    let got = ids(name, text);
    assert!(got.contains(&id), "{id} not found in {name}: {got:?}");
}

fn clean(name: &str, text: &str) {
    let got = ids(name, text);
    assert!(got.is_empty(), "false positive in {name}: {got:?}");
}

#[test]
fn every_detector_has_a_test_below() {
    let me = include_str!("tests.rs");
    for d in super::DETECTORS {
        let f = format!("fn {}()", d.id.replace('-', "_"));
        assert!(me.contains(&f), "no test for {}", d.id);
    }
}

#[test]
fn private_key() {
    for kind in ["RSA ", "OPENSSH ", "EC ", ""] {
        let pem = format!(
            "-----BEGIN {kind}PRIVATE KEY-----\n{}\n{}\n-----END {kind}PRIVATE KEY-----\n",
            r(1, 64, B64),
            r(2, 40, B64)
        );
        found("private-key", "id.pem", &pem);
    }
    let pgp = format!(
        "-----BEGIN PGP PRIVATE KEY BLOCK-----\nVersion: x\n\n{}\n",
        r(3, 64, B64)
    );
    found("private-key", "key.asc", &pgp);
    // JSON-escaped newlines (a GCP key file).
    found(
        "private-key",
        "sa.json",
        &format!(
            r#"{{"private_key": "-----BEGIN PRIVATE KEY-----\n{}\n"}}"#,
            r(4, 64, B64)
        ),
    );
    clean(
        "lib.py",
        "if line.startswith('-----BEGIN RSA PRIVATE KEY-----'):\n    pass\n",
    );
    clean(
        "k.pem",
        &format!("-----BEGIN PUBLIC KEY-----\n{}\n", r(5, 64, B64)),
    );
}

#[test]
fn age_secret_key() {
    found(
        "age-secret-key",
        "key.txt",
        &format!(
            "{}{}\n",
            "AGE-SECRET-KEY-1",
            r(6, 58, "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L")
        ),
    );
    clean(
        "r.txt",
        "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p\n",
    );
}

#[test]
fn aws_access_key() {
    found(
        "aws-access-key",
        "a.txt",
        &format!(
            "id {}{}\n",
            "AKIA",
            r(7, 16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
        ),
    );
    clean("a.txt", "id AKIAIOSFODNN7EXAMPLE\n");
}

#[test]
fn aws_secret_key() {
    let v = r(8, 40, &B64[..64]);
    found(
        "aws-secret-key",
        "c.ini",
        &format!("aws_secret_access_key = {v}\n"),
    );
    found(
        "aws-secret-key",
        "c.yaml",
        &format!("secret_access_key: \"{v}\"\n"),
    );
    clean(
        "c.ini",
        "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n",
    );
}

#[test]
fn github_token() {
    for p in ["ghp_", "gho_", "ghu_", "ghs_", "ghr_"] {
        found(
            "github-token",
            "a.sh",
            &format!("T={p}{}\n", r(9, 36, ALNUM)),
        );
    }
    found(
        "github-token",
        "a.sh",
        &format!(
            "T={}{}_{}\n",
            "github_pat_",
            r(10, 22, ALNUM),
            r(11, 59, ALNUM)
        ),
    );
    clean(
        "a.md",
        "use a token like ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n",
    );
}

#[test]
fn gitlab_token() {
    for p in ["glpat-", "gldt-", "glrt-", "glptt-", "glsoat-"] {
        found(
            "gitlab-token",
            "ci.yml",
            &format!("token: {p}{}\n", r(12, 20, URLSAFE)),
        );
    }
    clean("ci.yml", "token: glpat-<your-token>\n");
}

#[test]
fn slack_token() {
    for p in ["xoxb-", "xoxp-", "xoxa-"] {
        found(
            "slack-token",
            "bot.js",
            &format!(
                "t = '{p}{}-{}-{}'\n",
                r(13, 11, DIGITS),
                r(14, 12, DIGITS),
                r(15, 24, ALNUM)
            ),
        );
    }
    found(
        "slack-token",
        "app.json",
        &format!(
            "{{\"t\": \"xapp-1-{}-{}-{}\"}}\n",
            r(16, 11, UPPER_DIGITS),
            r(17, 13, DIGITS),
            r(18, 64, HEX)
        ),
    );
    clean("bot.js", "t = 'xoxb-your-token'\n");
}

#[test]
fn slack_webhook() {
    found(
        "slack-webhook",
        "README.md",
        &format!(
            "{}T{}/B{}/{}\n",
            "https://hooks.slack.com/services/",
            r(19, 8, UPPER_DIGITS),
            r(20, 10, UPPER_DIGITS),
            r(21, 24, ALNUM)
        ),
    );
    clean(
        "README.md",
        "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX\n",
    );
}

#[test]
fn stripe_key() {
    for p in ["sk_", "rk_"] {
        found(
            "stripe-key",
            "pay.rb",
            &format!("Stripe.api_key = '{p}{}{}'\n", "live_", r(22, 24, ALNUM)),
        );
    }
    clean("pay.rb", &format!("key = 'pk_live_{}'\n", r(23, 24, ALNUM)));
}

#[test]
fn stripe_webhook_secret() {
    found(
        "stripe-webhook-secret",
        "s.toml",
        &format!("hook = \"{}{}\"\n", "whsec_", r(24, 32, ALNUM)),
    );
    clean("s.toml", "hook = \"whsec_...\"\n");
}

#[test]
fn anthropic_key() {
    found(
        "anthropic-key",
        "main.go",
        &format!("key := \"{}api03-{}AA\"\n", "sk-ant-", r(25, 93, URLSAFE)),
    );
    clean("main.go", "key := \"sk-ant-api03-...\"\n");
}

#[test]
fn openai_key() {
    found(
        "openai-key",
        "a.py",
        &format!("k = '{}{}'\n", "sk-proj-", r(26, 100, URLSAFE)),
    );
    found(
        "openai-key",
        "a.ts",
        &format!(
            "k = '{}{}{}{}'\n",
            "sk-",
            r(27, 20, ALNUM),
            "T3Blbk",
            format_args!("FJ{}", r(28, 20, ALNUM))
        ),
    );
    clean("a.py", "k = 'sk-proj-your-key-here'\n");
}

#[test]
fn google_api_key() {
    found(
        "google-api-key",
        "m.php",
        &format!("$k = '{}{}';\n", "AIza", r(29, 35, URLSAFE)),
    );
    clean("m.php", "$k = 'AIza...';\n");
}

#[test]
fn gcp_service_account() {
    let j = format!(
        "{{\n  \"type\": \"service_account\",\n  \"private_key_id\": \"{}\"\n}}\n",
        r(30, 40, HEX)
    );
    found("gcp-service-account", "sa.json", &j);
    clean(
        "sa.json",
        "{\"type\": \"service_account\", \"client_email\": \"a@b.iam.gserviceaccount.com\"}\n",
    );
}

#[test]
fn azure_storage_key() {
    found(
        "azure-storage-key",
        "app.config",
        &format!(
            "<add value=\"DefaultEndpointsProtocol=https;AccountName=bots;{}={}==;EndpointSuffix=core.windows.net\"/>\n",
            "AccountKey",
            r(31, 86, B64)
        ),
    );
    clean(
        "app.config",
        "<add value=\"UseDevelopmentStorage=true\"/>\n",
    );
}

#[test]
fn azure_sas_token() {
    found(
        "azure-sas-token",
        "url.txt",
        &format!(
            "https://bots.blob.core.windows.net/c?sv=2022-11-02&ss=b&srt=co&sp=rl&se=2030-01-01T00:00:00Z&{}={}%3D\n",
            "sig",
            r(32, 43, ALNUM)
        ),
    );
    clean(
        "url.txt",
        "https://bots.blob.core.windows.net/c?sv=2022-11-02&sig=<signature>\n",
    );
}

#[test]
fn twilio_api_key() {
    found(
        "twilio-api-key",
        "t.py",
        &format!("sid = '{}{}'\n", "SK", r(33, 32, HEX)),
    );
    clean("t.py", &format!("sid = 'SK{}'\n", "0".repeat(32)));
}

#[test]
fn twilio_auth_token() {
    found(
        "twilio-auth-token",
        "t.py",
        &format!("TWILIO_AUTH_TOKEN = '{}'\n", r(34, 32, HEX)),
    );
    clean(
        "t.py",
        "TWILIO_AUTH_TOKEN = os.environ['TWILIO_AUTH_TOKEN']\n",
    );
}

#[test]
fn sendgrid_key() {
    found(
        "sendgrid-key",
        "m.js",
        &format!(
            "k = '{}{}.{}'\n",
            "SG.",
            r(35, 22, URLSAFE),
            r(36, 43, URLSAFE)
        ),
    );
    clean("m.js", "k = 'SG.xxxxx.yyyyy'\n");
}

#[test]
fn mailgun_key() {
    found(
        "mailgun-key",
        "m.yaml",
        &format!("api: {}{}\n", "key-", r(37, 32, HEX)),
    );
    found(
        "mailgun-key",
        "m.yaml",
        &format!(
            "api: {}-{}-{}\n",
            r(38, 32, HEX),
            r(39, 8, HEX),
            r(40, 8, HEX)
        ),
    );
    clean("m.yaml", &format!("public: pubkey-{}\n", r(41, 32, HEX)));
}

#[test]
fn discord_bot_token() {
    found(
        "discord-bot-token",
        "bot.py",
        &format!(
            "client.run('M{}.{}.{}')\n",
            r(42, 25, ALNUM),
            r(43, 6, URLSAFE),
            r(44, 38, URLSAFE)
        ),
    );
    clean("bot.py", "client.run(TOKEN)\n");
}

#[test]
fn discord_webhook() {
    found(
        "discord-webhook",
        "n.sh",
        &format!(
            "curl {}{}/{}\n",
            "https://discord.com/api/webhooks/",
            r(45, 18, DIGITS),
            r(46, 68, URLSAFE)
        ),
    );
    clean("n.sh", "curl https://discord.com/api/webhooks/ID/TOKEN\n");
}

#[test]
fn telegram_bot_token() {
    found(
        "telegram-bot-token",
        "t.yaml",
        &format!(
            "bot: \"{}:{}{}\"\n",
            r(47, 10, "123456789"),
            "AA",
            r(48, 33, URLSAFE)
        ),
    );
    clean("t.yaml", "time: 12345678:AA\n");
}

#[test]
fn npm_token() {
    found(
        "npm-token",
        ".npmrc",
        &format!(
            "//registry.npmjs.org/:_authToken={}{}\n",
            "npm_",
            r(49, 36, ALNUM)
        ),
    );
    clean(".npmrc", "//registry.npmjs.org/:_authToken=${NPM_TOKEN}\n");
}

#[test]
fn pypi_token() {
    found(
        "pypi-token",
        ".pypirc",
        &format!(
            "password = {}AgEIcHlwaS5vcmc{}\n",
            "pypi-",
            r(50, 70, URLSAFE)
        ),
    );
    clean(".pypirc", "password = pypi-<token>\n");
}

#[test]
fn huggingface_token() {
    found(
        "huggingface-token",
        "h.py",
        &format!("login('{}{}')\n", "hf_", r(51, 34, LETTERS)),
    );
    clean("h.py", "login('hf_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx')\n");
}

#[test]
fn digitalocean_token() {
    for p in ["dop_", "doo_"] {
        found(
            "digitalocean-token",
            "do.tf",
            &format!("token = \"{p}v1_{}\"\n", r(52, 64, HEX)),
        );
    }
    clean("do.tf", "token = var.do_token\n");
}

#[test]
fn heroku_api_key() {
    found(
        "heroku-api-key",
        "h.sh",
        &format!(
            "export HEROKU_API_KEY={}-{}-{}-{}-{}\n",
            r(53, 8, HEX),
            r(54, 4, HEX),
            r(55, 4, HEX),
            r(56, 4, HEX),
            r(57, 12, HEX)
        ),
    );
    clean("h.sh", "request_id=123e4567-e89b-12d3-a456-426614174000\n");
}

#[test]
fn shopify_token() {
    for p in ["shpat_", "shpss_"] {
        found(
            "shopify-token",
            "s.rb",
            &format!("t = '{p}{}'\n", r(58, 32, HEX)),
        );
    }
    clean("s.rb", "t = 'shpat_xxxx'\n");
}

#[test]
fn square_token() {
    found(
        "square-token",
        "sq.json",
        &format!("{{\"t\": \"{}{}\"}}\n", "sq0atp-", r(59, 22, URLSAFE)),
    );
    found(
        "square-token",
        "sq.json",
        &format!("{{\"t\": \"{}{}\"}}\n", "EAAA", r(60, 60, URLSAFE)),
    );
    clean("sq.json", "{\"t\": \"sq0atp-...\"}\n");
}

#[test]
fn vault_token() {
    found(
        "vault-token",
        "v.hcl",
        &format!("token = \"{}{}\"\n", "hvs.", r(61, 90, URLSAFE)),
    );
    clean("v.hcl", "token = \"hvs.xxxxxxxxxxxxxxxxxxxxxxxxxxxx\"\n");
}

#[test]
fn doppler_token() {
    found(
        "doppler-token",
        "d.sh",
        &format!("DOPPLER_TOKEN={}{}\n", "dp.st.", r(62, 43, ALNUM)),
    );
    clean("d.sh", "DOPPLER_TOKEN=dp.st.xxxx\n");
}

#[test]
fn grafana_token() {
    found(
        "grafana-token",
        "g.yaml",
        &format!(
            "key: {}{}\n",
            "glsa_",
            format_args!("{}_{}", r(63, 32, ALNUM), r(64, 8, HEX))
        ),
    );
    found(
        "grafana-token",
        "g.yaml",
        &format!("key: {}{}\n", "glc_", r(65, 60, B64)),
    );
    clean("g.yaml", "key: glsa_...\n");
}

#[test]
fn sentry_token() {
    found(
        "sentry-token",
        "s.ts",
        &format!("const t = '{}{}';\n", "sntryu_", r(66, 64, HEX)),
    );
    found(
        "sentry-token",
        "s.ts",
        &format!("const t = '{}eyJ{}';\n", "sntrys_", r(67, 80, B64)),
    );
    clean("s.ts", "const t = process.env.SENTRY_AUTH_TOKEN;\n");
}

#[test]
fn databricks_token() {
    found(
        "databricks-token",
        "d.cfg",
        &format!("token = {}{}\n", "dapi", r(68, 32, HEX)),
    );
    clean("d.cfg", "token = dapi<token>\n");
}

#[test]
fn postman_key() {
    found(
        "postman-key",
        "p.json",
        &format!(
            "{{\"k\": \"{}{}-{}\"}}\n",
            "PMAK-",
            r(69, 24, HEX),
            r(70, 34, HEX)
        ),
    );
    clean("p.json", "{\"k\": \"PMAK-...\"}\n");
}

#[test]
fn jwt() {
    found(
        "jwt",
        "a.js",
        &format!(
            "auth = 'eyJ{}.eyJ{}.{}'\n",
            r(71, 30, URLSAFE),
            r(72, 60, URLSAFE),
            r(73, 43, URLSAFE)
        ),
    );
    // jwt.io's documented sample.
    clean(
        "a.js",
        "t = 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c'\n",
    );
}

#[test]
fn url_credentials() {
    found(
        "url-credentials",
        "c.yaml",
        &format!(
            "db: postgres://bot:{}@db.internal:5432/app\n",
            r(74, 20, ALNUM)
        ),
    );
    clean("c.yaml", "db: postgres://postgres:postgres@localhost/app\n");
    clean("c.yaml", "db: postgres://user:${DB_PASSWORD}@db/app\n");
    clean("c.yaml", "repo: git@github.com:org/repo.git\n");
}

#[test]
fn generic_secret() {
    let v = r(75, 32, ALNUM);
    for (name, text) in [
        (".env", format!("API_KEY={v}\n")),
        ("c.yaml", format!("bot:\n  api_token: {v}\n")),
        ("c.json", format!("{{\"clientSecret\": \"{v}\"}}\n")),
        ("c.toml", format!("[bot]\nsecret = \"{v}\"\n")),
        ("c.ini", format!("[db]\npassword = {v}\n")),
        ("s.py", format!("API_KEY = \"{v}\"\n")),
        ("s.ts", format!("const authToken: string = '{v}';\n")),
        ("m.go", format!("apiKey := \"{v}\"\n")),
        ("a.rb", format!("config.secret_key = '{v}'\n")),
        ("a.php", format!("define('API_SECRET', '{v}');\n")),
        ("d.sh", format!("export BOT_TOKEN=\"{v}\"\n")),
        ("m.tf", format!("  password = \"{v}\"\n")),
    ] {
        found("generic-secret", name, &text);
    }
    for (name, text) in [
        ("c.yaml", "api_key: changeme\n".to_owned()),
        ("c.yaml", "api_key: ${API_KEY}\n".to_owned()),
        ("c.yaml", "api_key: <your-key>\n".to_owned()),
        ("s.py", "API_KEY = os.environ[\"API_KEY\"]\n".to_owned()),
        ("s.py", "password = settings.DB_PASSWORD\n".to_owned()),
        ("c.yaml", "token_ttl: 3600\n".to_owned()),
        (
            "c.yaml",
            "public_key: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGx\n".to_owned(),
        ),
        ("c.yaml", format!("key_id: {v}\n")),
        (
            "c.yaml",
            "session_token: 123e4567-e89b-12d3-a456-426614174000\n".to_owned(),
        ),
    ] {
        clean(name, &text);
    }
}
