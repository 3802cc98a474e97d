//! The detector table: one row per kind of credential, each from the
//! provider's documented token format (prefixes, lengths, alphabets), and
//! a test per row below. docs/git.md lists the same rows; keep them in step.
//!
//! Regex groups: `s` is the secret (what is fingerprinted and judged; the
//! whole match without it), `p` a fixed-format prefix that may be shown
//! (`ghp_`), `n` the name a generic value is bound to, `u` a URL's user.
//! SECURITY: nothing but `p` ever leaves the scanner.

/// How a candidate is judged after its pattern matched.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Check {
    /// The format is specific enough: only placeholders and documented
    /// examples are dropped.
    Format,
    /// Also at least this many bits of entropy per character.
    Entropy(f64),
    /// A name bound to a value: `entropy::generic_secret`.
    Generic,
    /// A URL with a password: not a placeholder, not the user's name, not
    /// a documentation or loopback host.
    UrlPassword,
}

/// One row of the table.
#[derive(Debug)]
pub struct Detector {
    /// Stable id, shown in findings and used in fingerprints.
    pub id: &'static str,
    /// What it finds, in words.
    pub what: &'static str,
    /// Patterns (any may match).
    pub patterns: &'static [&'static str],
    /// The judgement after a match.
    pub check: Check,
    /// Whether it runs on lockfiles and checksum lists (whose hashes look
    /// random): only formats with a fixed prefix do.
    pub in_lockfiles: bool,
}

/// An assignment operator, between optional closing quotes/brackets and
/// optional spaces (never a newline).
macro_rules! assign {
    () => {
        r#"["'\]]*[ \t]*(?:=>|:=|\|\|=|\?=|=|:)[ \t]*["']?"#
    };
}

/// Every detector, most specific first: when two match the same text, the
/// earlier row reports it.
pub const DETECTORS: &[Detector] = &[
    Detector {
        id: "private-key",
        what: "a private key block (PEM, OpenSSH or PGP)",
        patterns: &[
            r#"(?P<p>-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----)(?:[ \t]*(?:\\r)?(?:\\n|\r?\n))+(?:[A-Za-z-]+: [^\r\n]*\r?\n)*(?:[ \t]*\r?\n)?[ \t"']*(?P<s>[A-Za-z0-9+/=]{20,})"#,
        ],
        check: Check::Format,
        in_lockfiles: true,
    },
    Detector {
        id: "age-secret-key",
        what: "an age identity (secret key)",
        patterns: &[
            r"(?P<s>(?P<p>AGE-SECRET-KEY-1)[0-9A-Z]{58})",
            r"(?P<s>(?P<p>AGE-PLUGIN-)[0-9A-Z]+-1[0-9A-Z]{20,})",
        ],
        check: Check::Format,
        in_lockfiles: true,
    },
    Detector {
        id: "aws-access-key",
        what: "an AWS access key id",
        patterns: &[r"\b(?P<s>(?P<p>AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16})\b"],
        check: Check::Format,
        in_lockfiles: true,
    },
    Detector {
        id: "aws-secret-key",
        what: "an AWS secret access key",
        patterns: &[concat!(
            r"(?i)(?:aws[a-z0-9_.-]{0,20}?(?:secret|private)[a-z0-9_.-]{0,20}|secret_?access_?key)",
            assign!(),
            r"(?P<s>[A-Za-z0-9/+]{40})(?:[^A-Za-z0-9/+=]|$)"
        )],
        check: Check::Entropy(3.5),
        in_lockfiles: false,
    },
    Detector {
        id: "github-token",
        what: "a GitHub token",
        patterns: &[
            r"\b(?P<s>(?P<p>gh[pousr]_)[A-Za-z0-9]{36,251})\b",
            r"\b(?P<s>(?P<p>github_pat_)[A-Za-z0-9]{22}_[A-Za-z0-9]{59})\b",
        ],
        check: Check::Format,
        in_lockfiles: true,
    },
    Detector {
        id: "gitlab-token",
        what: "a GitLab token",
        patterns: &[
            r"\b(?P<s>(?P<p>(?:glpat|gldt|glrt|glrtr|glptt|glcbt|glimt|glsoat|glffct|gloas|glagent|glwt|glft)-)[A-Za-z0-9_.-]{20,80})",
            r"\b(?P<s>(?P<p>GR1348941)[A-Za-z0-9_-]{20})\b",
        ],
        check: Check::Format,
        in_lockfiles: true,
    },
    Detector {
        id: "slack-token",
        what: "a Slack token",
        patterns: &[
            r"\b(?P<s>(?P<p>xox[baprseo]-)[0-9A-Za-z]{8,}-[0-9A-Za-z-]{8,250})",
            r"\b(?P<s>(?P<p>xapp-)[0-9]-[A-Z0-9]{6,}-[0-9]{6,}-[A-Za-z0-9]{20,})",
        ],
        check: Check::Format,
        in_lockfiles: true,
    },
    Detector {
        id: "slack-webhook",
        what: "a Slack webhook URL",
        patterns: &[
            r"(?P<p>https://hooks\.slack\.com/)(?P<s>(?:services|workflows|triggers)/T[A-Z0-9]{6,}/[A-Za-z0-9]{6,}/[A-Za-z0-9/]{16,})",
        ],
        check: Check::Format,
        in_lockfiles: true,
    },
    Detector {
        id: "stripe-key",
        what: "a Stripe live secret or restricted key",
        patterns: &[r"\b(?P<s>(?P<p>(?:sk|rk)_live_)[A-Za-z0-9]{16,247})\b"],
        check: Check::Format,
        in_lockfiles: true,
    },
    Detector {
        id: "stripe-webhook-secret",
        what: "a Stripe webhook signing secret",
        patterns: &[r"\b(?P<s>(?P<p>whsec_)[A-Za-z0-9+/]{32,})"],
        check: Check::Format,
        in_lockfiles: true,
    },
    Detector {
        id: "anthropic-key",
        what: "an Anthropic API key",
        patterns: &[r"\b(?P<s>(?P<p>sk-ant-)(?:api|admin|sid)[0-9]{2}-[A-Za-z0-9_-]{32,120})"],
        check: Check::Format,
        in_lockfiles: true,
    },
    Detector {
        id: "openai-key",
        what: "an OpenAI API key",
        patterns: &[
            r"\b(?P<s>(?P<p>sk-(?:proj|svcacct|admin)-)[A-Za-z0-9_-]{40,250})",
            r"\b(?P<s>(?P<p>sk-)[A-Za-z0-9_-]{20,74}T3BlbkFJ[A-Za-z0-9_-]{20,74})",
            r"\b(?P<s>(?P<p>sk-)[A-Za-z0-9]{48})\b",
        ],
        check: Check::Format,
        in_lockfiles: true,
    },
    Detector {
        id: "google-api-key",
        what: "a Google API key",
        patterns: &[r"\b(?P<s>(?P<p>AIza)[0-9A-Za-z_-]{35})(?:[^0-9A-Za-z_-]|$)"],
        check: Check::Format,
        in_lockfiles: true,
    },
    Detector {
        id: "gcp-service-account",
        what: "a Google Cloud service-account key (JSON)",
        patterns: &[r#""private_key_id"[ \t]*:[ \t]*"(?P<s>[0-9a-f]{40})""#],
        check: Check::Format,
        in_lockfiles: false,
    },
    Detector {
        id: "azure-storage-key",
        what: "an Azure storage account key (connection string)",
        patterns: &[r"(?i)(?P<p>AccountKey=)(?P<s>[A-Za-z0-9+/]{80,90}={0,2})"],
        check: Check::Format,
        in_lockfiles: true,
    },
    Detector {
        id: "azure-sas-token",
        what: "an Azure shared access signature (SAS) token",
        patterns: &[
            r"\bsv=[0-9]{4}-[0-9]{2}-[0-9]{2}&[^\s'\x22<>]*?(?P<p>\bsig=)(?P<s>[A-Za-z0-9%+/]{30,}(?:%3D|=){0,2})",
        ],
        check: Check::Format,
        in_lockfiles: true,
    },
    Detector {
        id: "twilio-api-key",
        what: "a Twilio API key",
        patterns: &[r"\b(?P<s>(?P<p>SK)[0-9a-f]{32})\b"],
        check: Check::Entropy(3.0),
        in_lockfiles: false,
    },
    Detector {
        id: "twilio-auth-token",
        what: "a Twilio auth token",
        patterns: &[concat!(
            r"(?i)twilio[a-z0-9_.-]{0,20}?(?:auth|token|secret)[a-z0-9_.-]{0,20}",
            assign!(),
            r"(?P<s>[0-9a-f]{32})\b"
        )],
        check: Check::Entropy(3.0),
        in_lockfiles: false,
    },
    Detector {
        id: "sendgrid-key",
        what: "a SendGrid API key",
        patterns: &[r"\b(?P<s>(?P<p>SG\.)[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43})"],
        check: Check::Format,
        in_lockfiles: true,
    },
    Detector {
        id: "mailgun-key",
        what: "a Mailgun API key",
        patterns: &[
            r"\b(?P<s>(?P<p>key-)[0-9a-f]{32})\b",
            r"\b(?P<s>[0-9a-f]{32}-[0-9a-f]{8}-[0-9a-f]{8})\b",
        ],
        check: Check::Entropy(3.0),
        in_lockfiles: false,
    },
    Detector {
        id: "discord-bot-token",
        what: "a Discord bot token",
        patterns: &[
            r"\b(?P<s>[MNO][A-Za-z0-9_-]{23,27}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,40})\b",
        ],
        check: Check::Entropy(3.5),
        in_lockfiles: false,
    },
    Detector {
        id: "discord-webhook",
        what: "a Discord webhook URL",
        patterns: &[
            r"(?P<p>https://(?:ptb\.|canary\.)?discord(?:app)?\.com/api/webhooks/)(?P<s>[0-9]{15,20}/[A-Za-z0-9_-]{60,70})",
        ],
        check: Check::Format,
        in_lockfiles: true,
    },
    Detector {
        id: "telegram-bot-token",
        what: "a Telegram bot token",
        patterns: &[r"\b(?P<s>[0-9]{8,10}:AA[A-Za-z0-9_-]{33})(?:[^A-Za-z0-9_-]|$)"],
        check: Check::Format,
        in_lockfiles: true,
    },
    Detector {
        id: "npm-token",
        what: "an npm access token",
        patterns: &[r"\b(?P<s>(?P<p>npm_)[A-Za-z0-9]{36})\b"],
        check: Check::Format,
        in_lockfiles: true,
    },
    Detector {
        id: "pypi-token",
        what: "a PyPI upload token",
        patterns: &[
            r"\b(?P<s>(?P<p>pypi-)(?:AgEIcHlwaS5vcmc|AgENdGVzdC5weXBpLm9yZw)[A-Za-z0-9_-]{50,})",
        ],
        check: Check::Format,
        in_lockfiles: true,
    },
    Detector {
        id: "huggingface-token",
        what: "a Hugging Face access token",
        patterns: &[r"\b(?P<s>(?P<p>hf_)[A-Za-z0-9]{34,40})\b"],
        check: Check::Entropy(3.0),
        in_lockfiles: true,
    },
    Detector {
        id: "digitalocean-token",
        what: "a DigitalOcean token",
        patterns: &[r"\b(?P<s>(?P<p>do[opr]_v1_)[a-f0-9]{64})\b"],
        check: Check::Format,
        in_lockfiles: true,
    },
    Detector {
        id: "heroku-api-key",
        what: "a Heroku API key",
        patterns: &[
            concat!(
                r"(?i)heroku[a-z0-9_.-]{0,30}",
                assign!(),
                r"(?P<s>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\b"
            ),
            r"\b(?P<s>(?P<p>HRKU-)[A-Za-z0-9_-]{40,70})",
        ],
        check: Check::Format,
        in_lockfiles: false,
    },
    Detector {
        id: "shopify-token",
        what: "a Shopify access token or shared secret",
        patterns: &[r"\b(?P<s>(?P<p>shp(?:at|ss|ca|pa)_)[a-fA-F0-9]{32})\b"],
        check: Check::Format,
        in_lockfiles: true,
    },
    Detector {
        id: "square-token",
        what: "a Square access token or application secret",
        patterns: &[
            r"\b(?P<s>(?P<p>sq0(?:atp|csp)-)[A-Za-z0-9_-]{22,43})",
            r"\b(?P<s>(?P<p>EAAA)[A-Za-z0-9_-]{60})(?:[^A-Za-z0-9_-]|$)",
        ],
        check: Check::Format,
        in_lockfiles: true,
    },
    Detector {
        id: "vault-token",
        what: "a HashiCorp Vault token",
        patterns: &[r"\b(?P<s>(?P<p>hv[sbr]\.)[A-Za-z0-9_-]{24,})"],
        check: Check::Entropy(3.0),
        in_lockfiles: true,
    },
    Detector {
        id: "doppler-token",
        what: "a Doppler token",
        patterns: &[r"\b(?P<s>(?P<p>dp\.(?:pt|st|sa|ct|scim|audit)\.)[A-Za-z0-9]{40,44})\b"],
        check: Check::Format,
        in_lockfiles: true,
    },
    Detector {
        id: "grafana-token",
        what: "a Grafana API key, service-account or Cloud token",
        patterns: &[
            r"\b(?P<s>(?P<p>glc_)[A-Za-z0-9+/]{32,400}={0,2})",
            r"\b(?P<s>(?P<p>glsa_)[A-Za-z0-9]{32}_[A-Fa-f0-9]{8})\b",
            r"\b(?P<s>(?P<p>eyJrIjoi)[A-Za-z0-9+/]{50,}={0,2})",
        ],
        check: Check::Format,
        in_lockfiles: true,
    },
    Detector {
        id: "sentry-token",
        what: "a Sentry auth token",
        patterns: &[
            r"\b(?P<s>(?P<p>sntrys_)eyJ[A-Za-z0-9_=+/.-]{40,})",
            r"\b(?P<s>(?P<p>sntryu_)[a-f0-9]{64})\b",
        ],
        check: Check::Format,
        in_lockfiles: true,
    },
    Detector {
        id: "databricks-token",
        what: "a Databricks personal access token",
        patterns: &[r"\b(?P<s>(?P<p>dapi)[a-f0-9]{32}(?:-[0-9])?)\b"],
        check: Check::Entropy(3.0),
        in_lockfiles: true,
    },
    Detector {
        id: "postman-key",
        what: "a Postman API key",
        patterns: &[r"\b(?P<s>(?P<p>PMAK-)[a-f0-9]{24}-[a-f0-9]{34})\b"],
        check: Check::Format,
        in_lockfiles: true,
    },
    Detector {
        id: "jwt",
        what: "a JSON Web Token",
        patterns: &[
            r"\b(?P<s>(?P<p>eyJ)[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{20,})",
        ],
        check: Check::Format,
        in_lockfiles: true,
    },
    Detector {
        id: "url-credentials",
        what: "a URL with a password (scheme://user:pass@host)",
        patterns: &[
            r"(?P<p>\b[A-Za-z][A-Za-z0-9+.-]{1,20}://)(?P<u>[^\s:/?#@'\x22<>\[\]]{1,64}):(?P<s>[^\s:/?#@'\x22<>\[\]]{3,128})@(?P<h>[A-Za-z0-9.-]+)",
        ],
        check: Check::UrlPassword,
        in_lockfiles: true,
    },
    Detector {
        id: "generic-secret",
        what: "a high-entropy value assigned to a secret-like name",
        patterns: &[concat!(
            r#"(?i)(?P<n>[a-z0-9_.$@-]*(?:key|token|secret|passwd|password|passphrase|pwd|dsn|credentials?|auth)[a-z0-9_.-]*)"#,
            r#"(?:["'\]]*[ \t]*(?:=>|:=|\|\|=|\?=|=|:)|["'][ \t]*,|(?:[ \t]*:[ \t]*[A-Za-z][A-Za-z0-9_\[\]|]*|[ \t]+string)[ \t]*=)[ \t]*"#,
            r#"(?:[bru]?["'`](?P<s>[^"'`\r\n]{8,400})["'`]|(?P<v>[^\s"'`,;#()\[\]{}<>]{8,400}))"#
        )],
        check: Check::Generic,
        in_lockfiles: false,
    },
];

#[cfg(test)]
mod tests;
