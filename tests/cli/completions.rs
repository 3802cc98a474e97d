//! `botsecrets completions` and `botsecrets man` (issue 15, item 2): the
//! scripts parse in their shell and complete real subcommands and flags;
//! the man page renders with `man -l`.

use std::process::Command;

use crate::util::*;

#[test]
fn bash_completion_parses_and_completes_subcommands_and_flags() {
    let t = TestDir::new();
    let r = t.run(&["completions", "bash"]);
    r.ok();
    let script = t.write("botsecrets.bash", &r.stdout());
    let bash = tool("bash").expect("bash");
    let syntax = Command::new(&bash).arg("-n").arg(&script).output().unwrap();
    assert!(
        syntax.status.success(),
        "bash -n: {}",
        String::from_utf8_lossy(&syntax.stderr)
    );
    // Source it and ask for completions as bash would on TAB.
    let probe = format!(
        r#"source {}
complete -p botsecrets >/dev/null || exit 9
COMP_WORDS=(botsecrets ex); COMP_CWORD=1; COMP_LINE="botsecrets ex"; COMP_POINT=${{#COMP_LINE}}
_botsecrets botsecrets ex botsecrets; echo "sub: ${{COMPREPLY[*]}}"
COMP_WORDS=(botsecrets exec --pri); COMP_CWORD=2; COMP_LINE="botsecrets exec --pri"; COMP_POINT=${{#COMP_LINE}}
_botsecrets botsecrets --pri exec; echo "flag: ${{COMPREPLY[*]}}"
"#,
        script.display()
    );
    let out = Command::new(&bash).arg("-c").arg(probe).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("sub: exec export"), "{stdout}");
    assert!(stdout.contains("flag: --pristine"), "{stdout}");
}

#[test]
fn every_shell_gets_a_script_naming_the_commands() {
    let t = TestDir::new();
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let r = t.run(&["completions", shell]);
        r.ok();
        let s = r.stdout();
        for word in ["botsecrets", "exec", "updatekeys", "pristine"] {
            assert!(s.contains(word), "{shell} script lacks {word}");
        }
    }
    // Where the shell itself is installed, it parses its script too.
    for (shell, check) in [("zsh", "-n"), ("fish", "--no-execute")] {
        let Some(path) = which(shell) else { continue };
        let script = t.write(
            &format!("c.{shell}"),
            &t.run(&["completions", shell]).stdout(),
        );
        let out = Command::new(path).arg(check).arg(&script).output().unwrap();
        assert!(
            out.status.success(),
            "{shell}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let r = t.run(&["completions", "tcsh"]);
    r.fails_with(1);
    assert!(r.stderr().contains("possible values"), "{}", r.stderr());
}

fn which(name: &str) -> Option<std::path::PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

#[test]
fn man_page_renders_with_man() {
    let t = TestDir::new();
    let r = t.run(&["man"]);
    r.ok();
    let roff = r.stdout();
    assert!(
        roff.starts_with(".ie \\n(.g .ds Aq") || roff.contains(".TH botsecrets 1"),
        "{}",
        &roff[..200.min(roff.len())]
    );
    let page = t.write("botsecrets.1", &roff);
    let Some(man) = tool("man") else { return };
    let out = Command::new(man)
        .arg("-l")
        .arg(&page)
        .env("MANWIDTH", "100")
        .env("MANPAGER", "cat")
        .env("PAGER", "cat")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "man -l: {err}");
    assert!(!err.contains("warning"), "man -l warns: {err}");
    // The page covers every subcommand and their flags.
    for needle in [
        "NAME",
        "SYNOPSIS",
        "BOTSECRETS EXEC",
        "--pristine",
        "BOTSECRETS GIT INSTALL",
        "BOTSECRETS RECIPIENTS LIST",
    ] {
        assert!(text.contains(needle), "man page lacks {needle}:\n{text}");
    }
}
