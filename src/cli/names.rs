//! Names of recipients in what the CLI prints and takes: the one display
//! helper every recipient shown goes through (`bob (age1u4p50c…k8pnve)`,
//! from the `keys:` of the file's rules file), and names (or groups)
//! accepted where a command takes a recipient (`recipients remove FILE
//! bob`). Best effort: without a rules file, or with one that does not
//! parse, recipients show as they are and only raw keys are taken.

use std::path::Path;

use anyhow::Result;
use botsecrets::keys::Recipient;
use botsecrets::rules::{self, names::looks_like_key, RulesFile};

use super::report::UserError;

/// The names that apply to one file.
#[derive(Default)]
pub struct Names {
    rules: Option<RulesFile>,
}

impl Names {
    /// The names of the rules file that governs `path` (none when there is
    /// none, or it does not parse: other commands report that).
    pub fn for_file(path: &Path) -> Self {
        let abs = super::rules::absolute(path);
        Self {
            rules: rules::load_for(&abs).ok(),
        }
    }

    /// The rules file the names come from, if one was found and parses.
    pub fn rules(&self) -> Option<&RulesFile> {
        self.rules.as_ref()
    }

    /// The `keys:` name of `recipient`.
    pub fn name(&self, recipient: &str) -> Option<&str> {
        self.rules.as_ref().and_then(|r| r.name_of(recipient))
    }

    /// For messages and plans: `bob (age1u4p50c…k8pnve)`, or the recipient
    /// in full when it has no name.
    pub fn show(&self, recipient: &str) -> String {
        shown(self.rules.as_ref(), recipient)
    }

    /// [`Names::show`] of each, joined with `, `.
    pub fn show_all<S: AsRef<str>>(&self, recipients: &[S]) -> String {
        recipients
            .iter()
            .map(|r| self.show(r.as_ref()))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// [`Names::show`] of each.
    pub fn show_each<S: AsRef<str>>(&self, recipients: &[S]) -> Vec<String> {
        recipients.iter().map(|r| self.show(r.as_ref())).collect()
    }

    /// For listings: `bob (age1...)` with the recipient in full (to copy).
    pub fn listed(&self, recipient: &str) -> String {
        match self.name(recipient) {
            Some(n) => format!("{n} ({recipient})"),
            None => recipient.to_owned(),
        }
    }

    /// The recipient strings to remove that the command-line words stand
    /// for: a name or group of the rules file becomes its keys; anything
    /// else stays as written (compared as a key with the file's). A private
    /// key is refused (218), never echoed.
    pub fn recipient_strings(&self, args: &[String]) -> Result<Vec<String>> {
        let mut out: Vec<String> = Vec::new();
        for word in words(args) {
            if let Some(e) = botsecrets::keys::recipient::private_key(word) {
                return Err(super::inputs::recipient_error("RECIPIENT", e).into());
            }
            match &self.rules {
                Some(rules) if !looks_like_key(word) => {
                    let found = rules.resolve(word).map_err(|e| {
                        UserError::recipients(format!(
                            "RECIPIENT: {e} (names from {})",
                            rules.path.display()
                        ))
                    })?;
                    out.extend(found.iter().map(ToString::to_string));
                }
                _ => out.push(word.to_owned()),
            }
        }
        let mut seen = Vec::new();
        out.retain(|r| {
            let new = !seen
                .iter()
                .any(|s: &String| botsecrets::keys::same_recipient(s, r));
            seen.push(r.clone());
            new
        });
        Ok(out)
    }

    /// The recipients the command-line words stand for (each argument
    /// may hold several, comma-separated): raw recipients, or names and
    /// groups of the rules file. SECURITY: a private key is refused as
    /// such (218), never echoed. `from` names where they came from in messages (`--age`, `RECIPIENT`).
    pub fn recipients(&self, from: &str, args: &[String]) -> Result<Vec<Recipient>> {
        let mut out: Vec<Recipient> = Vec::new();
        for word in words(args) {
            let found =
                match &self.rules {
                    Some(rules) if !looks_like_key(word) => rules.resolve(word).map_err(|e| {
                        UserError::recipients(format!(
                            "{from}: {e} (names from {})",
                            rules.path.display()
                        ))
                    })?,
                    _ => vec![Recipient::parse(word)
                        .map_err(|e| super::inputs::recipient_error(from, e))?],
                };
            for r in found {
                if !out.iter().any(|o| o.same_as(&r.to_string())) {
                    out.push(r);
                }
            }
        }
        if out.is_empty() {
            return Err(UserError::recipients("no recipients given".to_owned()).into());
        }
        Ok(out)
    }
}

/// The words of command-line arguments, each of which may hold several,
/// comma-separated.
fn words(args: &[String]) -> impl Iterator<Item = &str> {
    args.iter()
        .flat_map(|a| a.split(','))
        .map(str::trim)
        .filter(|w| !w.is_empty())
}

/// [`Names::show`] under `rules` borrowed (none: the recipient as it is),
/// for callers that hold a rules file already.
pub fn shown(rules: Option<&RulesFile>, recipient: &str) -> String {
    match rules {
        Some(rules) => rules.shown(recipient),
        None => recipient.to_owned(),
    }
}
