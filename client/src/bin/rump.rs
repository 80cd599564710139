//! The rump.* tools in one binary. Started as `rump.halt` (a link to this
//! binary) it is rump.halt; started as `rump halt ...` likewise.
//! `rump --links DIR` makes those links.

use rumpclient::tools::{run, TOOLS};
use std::path::Path;

fn main() {
    let args: Vec<String> = std::env::args_os()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let me = args.first().map(|a| {
        Path::new(a)
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned()
    });
    let me = me.unwrap_or_default();
    if let Some(tool) = me.strip_prefix("rump.") {
        std::process::exit(run(tool, &args[1..]).unwrap_or_else(|| unknown(tool)));
    }
    match args.get(1).map(String::as_str) {
        Some("--links") => std::process::exit(make_links(args.get(2).map(String::as_str))),
        Some(tool) if !tool.starts_with('-') => {
            std::process::exit(run(tool, &args[2..]).unwrap_or_else(|| unknown(tool)))
        }
        _ => {
            eprintln!("usage: rump tool [arguments]    (or run it as rump.tool)");
            eprintln!("       rump --links directory   (make the rump.tool links there)");
            eprintln!("tools: {}", names());
            std::process::exit(1);
        }
    }
}

fn names() -> String {
    TOOLS
        .iter()
        .map(|(n, _)| format!("rump.{n}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn unknown(tool: &str) -> i32 {
    eprintln!("rump: no tool named {tool} (tools: {})", names());
    1
}

fn make_links(dir: Option<&str>) -> i32 {
    let exe = match std::env::current_exe() {
        Ok(e) => e,
        Err(e) => {
            eprintln!("rump: cannot find this program: {e}");
            return 1;
        }
    };
    let dir = dir
        .map(Path::new)
        .or_else(|| exe.parent())
        .unwrap_or(Path::new("."));
    for (name, _) in TOOLS {
        let link = dir.join(format!("rump.{name}"));
        let _ = std::fs::remove_file(&link);
        if let Err(e) = std::os::unix::fs::symlink(&exe, &link) {
            eprintln!("rump: {}: {e}", link.display());
            return 1;
        }
    }
    0
}
