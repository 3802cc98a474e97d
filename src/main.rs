//! The `botsecrets` binary: everything lives in the library; `cli` gathers
//! inputs, calls it and reports.

// The binary's modules are private by construction, so `pub` inside `cli`
// means "for the other cli modules"; `unreachable_pub` (Cargo.toml
// [lints]) is for the library's API.
#[allow(unreachable_pub)]
mod cli;

fn main() -> std::process::ExitCode {
    cli::run()
}
