//! The `botsecrets` binary: everything lives in the library; `cli` gathers
//! inputs, calls it and reports.

mod cli;

fn main() -> std::process::ExitCode {
    cli::run()
}
