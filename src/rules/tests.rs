//! Unit tests of the parent module.
use super::*;

const R1: &str = "age10fsp0tdt2rjaj32qn7pxsmrkux6netpdmr4x6q5kf8s7jzz43vqsxyvm9n";
const R2: &str = "age1u4p50cvf23gprufg0lu7d6wmlqm76njluxatc0tuhyrkpa53dfhsk8pnve";

fn rules(text: &str) -> Result<RulesFile, RulesError> {
    parse(text, Path::new("/repo/.botsecrets.yaml"))
}

#[test]
fn first_match_wins_and_paths_are_relative() {
    let f = rules(&format!(
        "creation_rules:\n  - path_regex: ^prod/\n    age: {R1}\n  - age: [{R1}, {R2}]\n    encrypted_regex: ^pass\n"
    ))
    .unwrap();
    let m = f.rule_for(Path::new("/repo/prod/a.yaml")).unwrap();
    assert_eq!(m.rule.number, 1);
    assert_eq!(m.target, "prod/a.yaml");
    let m = f.rule_for(Path::new("/repo/dev/prod/a.yaml")).unwrap();
    assert_eq!(m.rule.number, 2);
    assert_eq!(m.rule.recipients().count(), 2);
    assert!(matches!(
        m.rule.selection,
        Some(Selection::EncryptedRegex(_))
    ));
}

#[test]
fn no_match_lists_the_rules() {
    let f = rules(&format!(
        "creation_rules:\n  - path_regex: ^prod/\n    age: {R1}\n"
    ))
    .unwrap();
    let err = f
        .rule_for(Path::new("/repo/x.yaml"))
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "/repo/.botsecrets.yaml: no creation rule matches x.yaml; tried rule 1 (line 2, path_regex ^prod/)"
    );
}

#[test]
fn errors_have_line_and_column() {
    let err = rules("creation_rules:\n  - path_regex: [\n").unwrap_err();
    assert!(err.to_string().contains("line"), "{err}");
    let err = rules("creation_rules:\n  - age: bob\n")
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("/repo/.botsecrets.yaml: line 2, column 10: invalid recipient \"bob\""),
        "{err}"
    );
    let err = rules("creation_rules:\n  - path_regexp: x\n")
        .unwrap_err()
        .to_string();
    assert!(err.contains("unknown key \"path_regexp\""), "{err}");
    // sops ignores unknown keys; so does the .sops.yaml reader.
    assert!(parse(
        "creation_rules:\n  - path_regexp: x\n",
        Path::new("/repo/.sops.yaml")
    )
    .is_ok());
    let err = rules(&format!(
        "creation_rules:\n  - age: {R1}\n    encrypted_regex: a\n    unencrypted_suffix: b\n"
    ))
    .unwrap_err()
    .to_string();
    assert!(err.contains("a rule may set only one of"), "{err}");
}

#[test]
fn allow_lists_fingerprints_only() {
    let f = rules(&format!(
        "allow:\n  - fp-0123456789ABCDEF\ncreation_rules:\n  - age: {R1}\n"
    ))
    .unwrap();
    assert_eq!(f.allow, ["fp-0123456789abcdef"]);
    let err = rules("allow: [ghp_notafingerprint]\n")
        .unwrap_err()
        .to_string();
    assert!(err.contains("line 1"), "{err}");
    assert!(err.contains("fingerprint"), "{err}");
    assert!(!err.contains("ghp_"), "{err}");
}

#[test]
fn seal_policy_follows_the_rules_file() {
    let f = rules(&format!(
        "creation_rules:\n  - path_regex: ^legacy/\n    seal: optional\n    age: {R1}\n  - age: {R1}\n"
    ))
    .unwrap();
    assert_eq!(
        f.seal_policy(Path::new("/repo/legacy/a.yaml")),
        SealPolicy::Warn
    );
    assert_eq!(
        f.seal_policy(Path::new("/repo/a.yaml")),
        SealPolicy::Required
    );
    let sops = parse(
        &format!("creation_rules:\n  - age: {R1}\n"),
        Path::new("/repo/.sops.yaml"),
    )
    .unwrap();
    assert_eq!(
        sops.seal_policy(Path::new("/repo/a.yaml")),
        SealPolicy::Warn
    );
    let err = rules(&format!(
        "creation_rules:\n  - age: {R1}\n    seal: maybe\n"
    ))
    .unwrap_err()
    .to_string();
    assert!(err.contains("seal must be required or optional"), "{err}");
}

#[test]
fn rotation_policy_and_its_errors() {
    let f = rules(&format!(
        "creation_rules:\n  - age: {R1}\n    rotation:\n      max_age: 90d\n      paths:\n        stripe.secret_key: 30d\n"
    ))
    .unwrap();
    let rot = f.rules[0].rotation.as_ref().unwrap();
    assert_eq!(rot.max_age.as_ref().unwrap().days, 90);
    assert_eq!(rot.paths[0].path.to_string(), "stripe.secret_key");
    assert_eq!(
        (rot.paths[0].limit.line, rot.paths[0].limit.column),
        (6, 28)
    );
    let err = rules(&format!(
        "creation_rules:\n  - age: {R1}\n    rotation:\n      max_age: 3 months\n"
    ))
    .unwrap_err()
    .to_string();
    assert_eq!(
        err,
        "/repo/.botsecrets.yaml: line 4, column 16: creation_rules[0].rotation.max_age: \"3 months\" is not a duration; write whole days or weeks, e.g. 90d or 12w"
    );
    let err = rules(&format!(
        "creation_rules:\n  - age: {R1}\n    rotation: {{max_age: 90d, max_ages: 1d}}\n"
    ))
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("line 3") && err.contains("unknown key \"max_ages\" in rotation"),
        "{err}"
    );
    // .sops.yaml too: sops ignores the key, botsecrets enforces it.
    let err = parse(
        &format!("creation_rules:\n  - age: {R1}\n    rotation: {{max_age: 90}}\n"),
        Path::new("/repo/.sops.yaml"),
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("line 3") && err.contains("has no unit"),
        "{err}"
    );
}

#[test]
fn keys_and_revoked() {
    let f = rules(&format!(
        "keys:\n  alice: {R1}\nrevoked: [alice, {R2}]\ncreation_rules:\n  - age: {R1}\n"
    ))
    .unwrap();
    assert_eq!(f.name_of(R1), Some("alice"));
    assert_eq!(f.name_of(R2), None);
    assert_eq!(f.revoked.len(), 2);
    assert_eq!(f.revoked[0].name.as_deref(), Some("alice"));
    assert_eq!(f.revoked[1].recipient.to_string(), R2);
    assert!(f.names_recipient(R1) && !f.names_recipient(R2));
    let err = rules(&format!("revoked: [bob]\ncreation_rules:\n  - age: {R1}\n"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("line 1, column 11: revoked entry \"bob\" is neither a name under keys: nor a recipient"),
        "{err}"
    );
}

#[test]
fn key_groups_and_threshold() {
    let f = rules(&format!(
        "creation_rules:\n  - shamir_threshold: 2\n    key_groups:\n      - age:\n          - {R1}\n      - age: [{R2}]\n        pgp: [ABC]\n"
    ))
    .unwrap();
    let r = &f.rules[0];
    assert_eq!(r.key_groups.len(), 2);
    assert_eq!(r.shamir_threshold, 2);
    let f = rules("creation_rules:\n  - pgp: ABC\n").unwrap();
    assert!(matches!(
        f.rule_for(Path::new("/repo/a.yaml")),
        Err(RulesError::NoAgeRecipients { .. })
    ));
}
