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
mod history;
mod init;
mod inputs;
mod keygen;
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

/// Entry point of the binary.
pub fn run() -> ExitCode {
    let cli = match Cli::try_parse() {
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
