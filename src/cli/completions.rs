//! `botsecrets completions SHELL` and `botsecrets man`: the shell
//! completion script (clap_complete) and the roff man page (clap_mangen),
//! both generated from the same clap definition as the parser, so they
//! cannot fall behind a flag.

use std::io::Write;

use anyhow::Result;
use clap::CommandFactory;

use super::args::{Cli, CompletionsArgs, ShellArg};

/// Runs `completions`: the script on stdout.
pub fn run(args: &CompletionsArgs) -> Result<()> {
    use clap_complete::Shell;
    let shell = match args.shell {
        ShellArg::Bash => Shell::Bash,
        ShellArg::Zsh => Shell::Zsh,
        ShellArg::Fish => Shell::Fish,
        ShellArg::Elvish => Shell::Elvish,
        ShellArg::Powershell => Shell::PowerShell,
    };
    let mut cmd = Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut cmd, "botsecrets", &mut out);
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(&out)?;
    stdout.flush()?;
    Ok(())
}

/// Runs `man`: the page for `botsecrets` and a section per subcommand, in
/// roff on stdout (`botsecrets man | man -l -`).
pub fn man() -> Result<()> {
    let cmd = Cli::command();
    let mut out = Vec::new();
    let page = clap_mangen::Man::new(cmd.clone());
    page.render_title(&mut out)?;
    page.render_name_section(&mut out)?;
    page.render_synopsis_section(&mut out)?;
    page.render_description_section(&mut out)?;
    page.render_options_section(&mut out)?;
    page.render_subcommands_section(&mut out)?;
    // One section per subcommand (and per nested one), with its options:
    // a single page to search, like git's `git help -a` in one place.
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        render_sub(&mut out, sub, "botsecrets")?;
    }
    page.render_extra_section(&mut out)?;
    page.render_version_section(&mut out)?;
    page.render_authors_section(&mut out)?;
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(&out)?;
    stdout.flush()?;
    Ok(())
}

fn render_sub(out: &mut Vec<u8>, sub: &clap::Command, parent: &str) -> Result<()> {
    let full = format!("{parent} {}", sub.get_name());
    writeln!(out, ".SH \"{}\"", full.to_uppercase())?;
    let sub_named = sub
        .clone()
        .bin_name(full.clone())
        .display_name(full.clone());
    let page = clap_mangen::Man::new(sub_named);
    // The subcommand's synopsis, description and options, without the
    // title and NAME sections of a page of its own.
    let mut section = Vec::new();
    page.render_synopsis_section(&mut section)?;
    page.render_description_section(&mut section)?;
    page.render_options_section(&mut section)?;
    // Demote the sub-page's sections to subsections of this one.
    let text = String::from_utf8_lossy(&section).replace(".SH ", ".SS ");
    out.extend_from_slice(text.as_bytes());
    for nested in sub.get_subcommands().filter(|s| !s.is_hide_set()) {
        render_sub(out, nested, &full)?;
    }
    Ok(())
}
