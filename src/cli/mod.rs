//! The command-line front end: parse, gather inputs, call the library,
//! report. Nothing here decides a rule of the format or the crypto.

mod access;
mod allow;
mod args;
mod audit;
mod auditwalk;
mod check;
mod completions;
mod decrypt;
mod edit;
mod encrypt;
mod exec;
mod export;
mod git;
mod gitattr;
mod gitcmd;
mod gitinstall;
mod handover;
mod history;
mod init;
mod inputs;
mod keygen;
mod malloc;
mod names;
mod open;
mod output;
mod recipients;
mod redact;
mod render;
mod report;
mod rotate;
mod rules;
mod seal;
mod secrets;
mod set;
mod suggest;
mod updatekeys;
mod worktree;

use std::process::ExitCode;

use clap::Parser;

use args::{Cli, Command};

/// glibc malloc, with huge-page advice for large blocks (cli/malloc.rs).
#[global_allocator]
static ALLOCATOR: malloc::Allocator = malloc::Allocator;

/// Entry point of the binary.
pub fn run() -> ExitCode {
    malloc::fix_mmap_threshold();
    let cli = match parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            // COMPAT(sops): usage errors exit 1 (sops' generic code); help
            // and version exit 0.
            return if e.use_stderr() {
                ExitCode::from(report::code::GENERIC)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let result = match &cli.command {
        Command::Keygen(a) => keygen::run(a),
        Command::Encrypt(a) => encrypt::run(a),
        Command::Decrypt(a) => decrypt::run(a),
        Command::Edit(a) => edit::run(a),
        Command::Set(a) => set::run_set(a),
        Command::Unset(a) => set::run_unset(a),
        Command::Get(a) => set::run_get(a),
        Command::Exec(a) => exec::run(a),
        Command::Export(a) => export::run(a),
        Command::Recipients(c) => recipients::run(c),
        Command::Updatekeys(a) => updatekeys::run(a),
        Command::Seal(a) => seal::run(a),
        Command::Rotate(a) => rotate::run(a),
        // `check --history` scans git history: its own module.
        Command::Check(a) if a.history => history::run(a),
        Command::Check(a) => check::run(a),
        Command::Audit(a) => audit::run(a),
        Command::Git(c) => git::run(c),
        Command::Completions(a) => completions::run(a),
        Command::Man => completions::man(),
        Command::Init(a) => init::run(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => report::report(e),
    }
}

/// Parses the command line. `botsecrets exec` starts every bot, so the time
/// before its hand-over is the product: it is parsed first against a clap
/// tree holding only the `exec` subcommand, because building the
/// definitions of all twenty subcommands (and dropping them) cost more
/// instructions than the parse itself. Anything but a successful parse
/// there (help, a usage error, another subcommand) goes through the full
/// tree, so every message is the whole CLI's own.
fn parse() -> Result<Cli, clap::Error> {
    if std::env::args_os().nth(1).is_some_and(|a| a == "exec") {
        if let Some(cli) = parse_exec(std::env::args_os()) {
            return Ok(cli);
        }
    }
    Cli::try_parse()
}

/// `argv` parsed as `botsecrets exec ...` with only the `exec` subcommand
/// defined; `None` for anything else (the caller parses it in full).
fn parse_exec<I, T>(argv: I) -> Option<Cli>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    use clap::{Args, FromArgMatches};
    let tree = clap::Command::new("botsecrets")
        .subcommand(args::ExecArgs::augment_args(clap::Command::new("exec")));
    let matches = tree.try_get_matches_from(argv).ok()?;
    match matches.subcommand() {
        Some(("exec", sub)) => args::ExecArgs::from_arg_matches(sub).ok().map(|a| Cli {
            command: Command::Exec(a),
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `exec` fast path gives what the full parser gives, and gives up
    /// (leaving the message to the full parser) wherever that one fails or
    /// prints help.
    #[test]
    fn exec_fast_path_parses_like_the_full_tree() {
        let cases: &[&[&str]] = &[
            &["botsecrets", "exec", "--", "true"],
            &[
                "botsecrets",
                "exec",
                "-f",
                "a.yaml",
                "--file",
                "b.env",
                "--",
                "env",
                "-0",
            ],
            &["botsecrets", "exec", "--file=a.yaml", "true", "--file", "x"],
            &[
                "botsecrets",
                "exec",
                "--pristine",
                "-v",
                "--redact",
                "--",
                "sh",
                "-c",
                "echo",
            ],
            &[
                "botsecrets",
                "exec",
                "--only",
                "A,x",
                "--only",
                "b.c",
                "--prefix",
                "APP_",
                "--",
                "x",
            ],
            &[
                "botsecrets",
                "exec",
                "--as-file",
                "K=a.b",
                "--identity",
                "k.txt",
                "--",
                "x",
            ],
            &[
                "botsecrets",
                "exec",
                "--allow-env",
                "PATH,IFS",
                "--rename",
                "a=B",
                "--keep-suffix",
                "--",
                "x",
            ],
            &["botsecrets", "exec", "--", "--help"],
            &["botsecrets", "exec", "--", "-V"],
            // Failures and help: the fast path must give up on each.
            &["botsecrets", "exec"],
            &["botsecrets", "exec", "--"],
            &["botsecrets", "exec", "--help"],
            &["botsecrets", "exec", "-h"],
            &["botsecrets", "exec", "--nope", "--", "true"],
            &["botsecrets", "exec", "-V"],
            &["botsecrets", "exec", "--file"],
            &["botsecrets", "--version"],
            &["botsecrets", "decrypt", "x.yaml"],
        ];
        let mut parsed = 0;
        for argv in cases {
            let full = Cli::try_parse_from(*argv)
                .ok()
                .filter(|c| matches!(c.command, Command::Exec(_)))
                .map(|c| format!("{c:?}"));
            let fast = parse_exec(*argv).map(|c| format!("{c:?}"));
            parsed += usize::from(fast.is_some());
            assert_eq!(fast, full, "{argv:?}");
        }
        // The first nine are `exec` command lines that parse.
        assert_eq!(parsed, 9);
    }
}
