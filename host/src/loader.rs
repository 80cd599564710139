//! Loading component libraries (`-l`, and rump_allserver's preloading).
//!
//! `-l NAME` tries NAME itself (a path, or a name the dynamic linker
//! searches for), then `libNAME.so` on the library search path, then both
//! in the server's plugin directory. As in NetBSD, libraries that fail are
//! retried in rounds while any round loads something. Before a library's
//! root module is touched, its plugin-api version is compared with ours,
//! so an incompatible library is refused with one line naming both.

use rump_plugin_api::abi_stable::library::{lib_header_from_path, LibraryError};
use rump_plugin_api::component::ComponentDesc;
use rump_plugin_api::{version, PluginModRef, API_VERSION};
use std::path::{Path, PathBuf};

/// A library that loaded, with the components it provides.
pub struct Loaded {
    pub path: PathBuf,
    pub size: u64,
    pub components: Vec<ComponentDesc>,
}

/// The plugin directory: `$RUMP_PLUGIN_DIR`, else `plugins` next to the
/// executable, else the executable's own directory.
pub fn plugin_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("RUMP_PLUGIN_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(d);
    }
    let exe_dir = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(Path::to_path_buf))
        .unwrap_or_else(|| PathBuf::from("."));
    let sub = exe_dir.join("plugins");
    if sub.is_dir() {
        sub
    } else {
        exe_dir
    }
}

/// Every component library (`librump*.so`) in `dir`, sorted by name.
pub fn plugins_in(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut v: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("librump") && n.ends_with(".so"))
        })
        .collect();
    v.sort();
    v
}

fn candidates(arg: &str, dir: &Path) -> Vec<PathBuf> {
    let lib = format!("lib{arg}.so");
    if arg.contains('/') {
        return vec![PathBuf::from(arg)];
    }
    let mut v = Vec::new();
    if Path::new(arg).exists() {
        v.push(PathBuf::from(format!("./{arg}")));
    }
    v.push(PathBuf::from(arg));
    v.push(PathBuf::from(&lib));
    v.push(dir.join(arg));
    v.push(dir.join(&lib));
    v
}

/// Why a library file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// Nothing loadable at that path or name.
    #[error("{0}: cannot open the library")]
    NotFound(String),
    /// It opened, but it is not a usable component library.
    #[error("{0}: {1}")]
    Unusable(String, String),
}

/// Loads one library file and checks it.
pub fn load_path(path: &Path) -> Result<Loaded, LoadError> {
    let shown = path.display().to_string();
    let unusable = |why: String| LoadError::Unusable(shown.clone(), why);
    let header = lib_header_from_path(path).map_err(|e| match e {
        LibraryError::OpenError { .. } => LoadError::NotFound(shown.clone()),
        LibraryError::GetSymbolError { .. } => {
            unusable("not a component library (it exports no rump_plugin root module)".into())
        }
        other => unusable(first_line(&other.to_string())),
    })?;
    let theirs = header.version_strings().version.to_string();
    version::check(API_VERSION, &theirs).map_err(unusable)?;
    let root = header.init_root_module::<PluginModRef>().map_err(|e| {
        unusable(format!(
            "incompatible root module: {}",
            first_line(&e.to_string())
        ))
    })?;
    let components = (root.components())().into_vec();
    let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    Ok(Loaded {
        path: path.to_path_buf(),
        size,
        components,
    })
}

/// Loads a library from its contents (a module read through the kernel's
/// VFS): they go into an anonymous memory file that is linked from there.
pub fn load_bytes(bytes: &[u8]) -> Result<Loaded, LoadError> {
    use nix::sys::memfd::{memfd_create, MemFdCreateFlag};
    use std::io::Write;
    use std::os::fd::AsRawFd;
    let io = |e: std::io::Error| LoadError::Unusable("module".into(), e.to_string());
    let fd =
        memfd_create(c"rump-module", MemFdCreateFlag::MFD_CLOEXEC).map_err(|e| io(e.into()))?;
    let mut file = std::fs::File::from(fd);
    file.write_all(bytes).map_err(io)?;
    let path = PathBuf::from(format!("/proc/self/fd/{}", file.as_raw_fd()));
    let loaded = load_path(&path);
    // The file stays open as long as the library stays mapped (for ever):
    // the dynamic linker knows libraries by path, so a reused descriptor
    // number would make it hand back an earlier module.
    std::mem::forget(file);
    loaded
}

fn first_line(s: &str) -> String {
    s.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("unknown error")
        .to_string()
}

/// Loads `-l` arguments in rounds. The error is NetBSD's message for each
/// library that never loaded.
pub fn load_args(args: &[String], dir: &Path) -> Result<Vec<Loaded>, String> {
    let mut pending: Vec<(&String, String)> = args.iter().map(|a| (a, String::new())).collect();
    let mut loaded = Vec::new();
    loop {
        let before = pending.len();
        let mut still = Vec::new();
        for (arg, _) in pending {
            match try_load(arg, dir) {
                Ok(l) => loaded.push(l),
                Err(e) => still.push((arg, e)),
            }
        }
        pending = still;
        if pending.is_empty() || pending.len() == before {
            break;
        }
    }
    if pending.is_empty() {
        return Ok(loaded);
    }
    Err(pending
        .iter()
        .map(|(arg, e)| format!("failed to load -libraries, last error from \"{arg}\":\n  {e}\n"))
        .collect())
}

fn try_load(arg: &str, dir: &Path) -> Result<Loaded, String> {
    let mut tried = Vec::new();
    for c in candidates(arg, dir) {
        match load_path(&c) {
            Ok(l) => return Ok(l),
            Err(LoadError::NotFound(p)) => tried.push(p),
            Err(e) => return Err(e.to_string()),
        }
    }
    Err(format!("{arg}: not found (tried {})", tried.join(", ")))
}
