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
        err.starts_with("/repo/.botsecrets.yaml: line 2, column 10: unknown name \"bob\""),
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
        err.contains("line 1, column 11: revoked entry \"bob\" is neither a name under keys: or groups: nor a recipient"),
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

#[test]
fn names_and_groups_in_age_lists() {
    let f = rules(&format!(
        "keys:\n  alice: {R1}\n  bob: {R2}\ngroups:\n  humans: [alice]\n  all: [humans, bob]\ncreation_rules:\n  - path_regex: ^a/\n    age: all\n  - path_regex: ^b/\n    age: \"humans, {R2}\"\n  - key_groups:\n      - age: [humans]\n      - age: [bob]\n"
    ))
    .unwrap();
    let strings = |r: &CreationRule| -> Vec<Vec<String>> {
        r.key_groups
            .iter()
            .map(|g| g.iter().map(ToString::to_string).collect())
            .collect()
    };
    assert_eq!(strings(&f.rules[0]), [[R1, R2]]);
    assert_eq!(strings(&f.rules[1]), [[R1, R2]]);
    assert_eq!(strings(&f.rules[2]), [vec![R1], vec![R2]]);
    assert_eq!(f.resolve("all").unwrap().len(), 2);
}

#[test]
fn yaml_anchors_work_in_the_rules_file() {
    let f = rules(&format!(
        "keys:\n  alice: &alice {R1}\n  bob: {R2}\ncreation_rules:\n  - path_regex: ^a/\n    age: &owners [*alice, bob]\n  - age: *owners\n"
    ))
    .unwrap();
    assert_eq!(f.rules[0].recipients().count(), 2);
    assert_eq!(f.rules[1].recipients().count(), 2);
}

#[test]
fn name_errors_have_line_and_column() {
    let err = rules(&format!(
        "keys:\n  alice: {R1}\ncreation_rules:\n  - age: [alice, bobb]\n"
    ))
    .unwrap_err()
    .to_string();
    assert_eq!(
        err,
        "/repo/.botsecrets.yaml: line 4, column 18: unknown name \"bobb\": not a name under keys: or groups: (known: alice)"
    );
    let err = rules("groups:\n  a: [b]\n  b: [c]\n  c: [a]\ncreation_rules: []\n")
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "/repo/.botsecrets.yaml: line 2, column 7: groups form a cycle: a -> b -> c -> a"
    );
    let err = rules(&format!("keys:\n  bob: {R1}\ngroups:\n  bob: [bob]\n"))
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "/repo/.botsecrets.yaml: line 4, column 9: \"bob\" is both a key (line 2) and a group: a name must mean one thing"
    );
    let err = rules("keys:\n  bob: age1notakey\n")
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("/repo/.botsecrets.yaml: line 2, column 8: invalid recipient"),
        "{err}"
    );
    let err = rules(
        "keys:\n  bob: AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ\n",
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            RulesError::PrivateKey {
                line: 2,
                column: 8,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(!err.to_string().contains("AGE-SECRET-KEY-1"), "{err}");
    let err = rules(&format!("keys:\n  a,b: {R1}\n"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("line 2, column 8") && err.contains("commas"),
        "{err}"
    );
    let err = rules("groups:\n  humans: [alice]\n")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("line 2, column 12: unknown name \"alice\""),
        "{err}"
    );
}

#[test]
fn sops_yaml_keeps_the_sops_schema() {
    // sops would reject a name in age:; so does botsecrets, saying why.
    let err = parse(
        &format!("keys:\n  alice: {R1}\ncreation_rules:\n  - age: alice\n"),
        Path::new("/repo/.sops.yaml"),
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("line 4, column 10: invalid recipient"),
        "{err}"
    );
    assert!(err.contains("work in .botsecrets.yaml only"), "{err}");
}
