//! A creation rule's rotation policy: `rotation: { max_age: 90d, paths:
//! {stripe.secret_key: 30d} }` — how old a secret's **value** may get
//! before `audit --check` (and `check`) call it overdue.
//!
//! Durations are whole days or weeks (`30d`, `12w`), at least one day; a
//! number without a unit is refused (is `90` days or seconds?). A `paths:`
//! entry applies to that key path and everything under it; the longest
//! matching entry wins, then `max_age`. Whether a `paths:` entry names a
//! path that exists can only be told against the files, so each entry keeps
//! its place in the rules file for that error (see `crate::audit`).

use crate::path::KeyPath;

/// A limit on a secret's age, and where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limit {
    /// Whole days.
    pub days: u32,
    /// As written (`90d`), for messages.
    pub text: String,
    /// 1-based line in the rules file.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
}

/// A per-path override of `max_age`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathLimit {
    /// The key path (and everything under it).
    pub path: KeyPath,
    /// The limit.
    pub limit: Limit,
}

/// A rule's `rotation:` block.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rotation {
    /// `max_age`: the limit for every secret the rule covers.
    pub max_age: Option<Limit>,
    /// `paths`: overrides, in the order written.
    pub paths: Vec<PathLimit>,
}

impl Rotation {
    /// The limit for `path`: the longest `paths:` entry that is `path` or
    /// a prefix of it, else `max_age`; `None` when neither applies.
    pub fn limit_for(&self, path: &KeyPath) -> Option<&Limit> {
        self.paths
            .iter()
            .filter(|p| path.starts_with(&p.path))
            .max_by_key(|p| p.path.segments().len())
            .map(|p| &p.limit)
            .or(self.max_age.as_ref())
    }
}

/// Parses `30d` / `12w` into whole days; the error says what is accepted.
pub fn parse_days(text: &str) -> Result<u32, String> {
    let t = text.trim();
    let bad = || format!("{t:?} is not a duration; write whole days or weeks, e.g. 90d or 12w");
    let (number, unit) = t.split_at(t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len()));
    if number.is_empty() {
        return Err(bad());
    }
    let n: u32 = number.parse().map_err(|_| bad())?;
    let days = match unit {
        "d" => Some(n),
        "w" => n.checked_mul(7),
        "" => {
            return Err(format!(
                "{t:?} has no unit; write days or weeks, e.g. {t}d or {t}w"
            ))
        }
        _ => None,
    }
    .ok_or_else(bad)?;
    if days == 0 {
        return Err(format!("{t:?}: a rotation limit is at least 1d"));
    }
    Ok(days)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limit(days: u32) -> Limit {
        Limit {
            days,
            text: format!("{days}d"),
            line: 1,
            column: 1,
        }
    }

    #[test]
    fn durations() {
        assert_eq!(parse_days("90d"), Ok(90));
        assert_eq!(parse_days("12w"), Ok(84));
        assert!(parse_days("90").unwrap_err().contains("no unit"));
        assert!(parse_days("3 months")
            .unwrap_err()
            .contains("not a duration"));
        assert!(parse_days("d").unwrap_err().contains("not a duration"));
        assert!(parse_days("-5d").unwrap_err().contains("not a duration"));
        assert!(parse_days("0d").unwrap_err().contains("at least 1d"));
        assert!(parse_days("99999999999d").is_err());
    }

    #[test]
    fn the_longest_path_wins_then_max_age() {
        let r = Rotation {
            max_age: Some(limit(90)),
            paths: vec![
                PathLimit {
                    path: KeyPath::parse("stripe").unwrap(),
                    limit: limit(60),
                },
                PathLimit {
                    path: KeyPath::parse("stripe.secret_key").unwrap(),
                    limit: limit(30),
                },
            ],
        };
        let days = |p: &str| r.limit_for(&KeyPath::parse(p).unwrap()).map(|l| l.days);
        assert_eq!(days("stripe.secret_key"), Some(30));
        assert_eq!(days("stripe.public_key"), Some(60));
        assert_eq!(days("github.token"), Some(90));
        assert_eq!(
            Rotation::default().limit_for(&KeyPath::parse("a").unwrap()),
            None
        );
    }
}
