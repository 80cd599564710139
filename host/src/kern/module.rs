//! The module subsystem: every component the kernel knows (built in, from
//! `-l` libraries, from `-m` modules), its requirements and its state, and
//! the modctl(2) syscall that lists them.
//!
//! Components become active in dependency order. One whose requirements
//! are missing stays inactive and says so when something asks for it; with
//! LD_BIND_NOW set, the server refuses to boot instead and names every
//! missing requirement.

use super::services;
use crate::sp::lwp::LwpCtx;
use netbsd_abi::bytes::Reader;
use netbsd_abi::modctl::{
    ModClass, ModSource, ModStat, ModctlLoad, MODCTL_EXISTS, MODCTL_LOAD, MODCTL_STAT,
    MODCTL_UNLOAD,
};
use netbsd_abi::Errno;
use parking_lot::{Mutex, RwLock};
use rump_plugin_api::abi_stable::std_types::RBox;
use rump_plugin_api::component::ComponentDesc;
use rump_plugin_api::ffi::ComponentEntry_TO;
use rump_plugin_api::{Args, ComponentClass, KResult, Kernel, SysRet};
use semver::{Version, VersionReq};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

/// A component compiled into the server, registered with `inventory`.
pub struct BuiltinComponent {
    pub name: &'static str,
    pub version: &'static str,
    pub class: ComponentClass,
    pub description: &'static str,
    pub init: fn(&Kernel) -> Result<(), String>,
}

inventory::collect!(BuiltinComponent);

/// Where a component came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    Builtin,
    /// A library loaded with `-l` or preloaded by rump_allserver.
    Library(PathBuf),
    /// A module loaded with `-m` or modctl.
    Module(PathBuf),
}

enum Entry {
    Builtin(fn(&Kernel) -> Result<(), String>),
    Library(ComponentEntry_TO<'static, RBox<()>>),
}

/// A requirement as declared and as parsed.
#[derive(Clone, Debug)]
pub struct Req {
    pub name: String,
    pub text: String,
    pub req: VersionReq,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum State {
    Inactive,
    Active,
    Failed(String),
}

/// A component known to the kernel.
pub struct Module {
    pub name: String,
    pub version: Version,
    pub class: ComponentClass,
    pub description: String,
    pub requires: Vec<Req>,
    pub origin: Origin,
    /// Size of the file it came from (0 for built-in components).
    pub size: u64,
    entry: Entry,
    state: Mutex<State>,
    /// Uses from outside the module system (mounts of its file system).
    refs: AtomicI64,
}

/// Why a component could not be taken in.
#[derive(Debug, thiserror::Error)]
pub enum AddError {
    #[error("component {0} is already loaded")]
    Duplicate(String),
    #[error("component {name}: bad version `{version}`: {err}")]
    BadVersion {
        name: String,
        version: String,
        err: semver::Error,
    },
    #[error("component {name}: bad requirement `{req}` on {on}: {err}")]
    BadRequirement {
        name: String,
        on: String,
        req: String,
        err: semver::Error,
    },
}

/// All components.
pub struct Modules {
    list: RwLock<Vec<Arc<Module>>>,
    /// Serialises activation.
    activating: Mutex<()>,
}

impl Modules {
    pub fn new() -> Self {
        Modules {
            list: RwLock::new(Vec::new()),
            activating: Mutex::new(()),
        }
    }

    fn add(&self, m: Module) -> Result<Arc<Module>, AddError> {
        let mut list = self.list.write();
        if list.iter().any(|x| x.name == m.name) {
            return Err(AddError::Duplicate(m.name));
        }
        let m = Arc::new(m);
        list.push(m.clone());
        Ok(m)
    }

    /// Takes in every built-in component.
    pub fn add_builtins(&self) -> Result<(), AddError> {
        for b in inventory::iter::<BuiltinComponent> {
            let version = Version::parse(b.version).map_err(|err| AddError::BadVersion {
                name: b.name.into(),
                version: b.version.into(),
                err,
            })?;
            self.add(Module {
                name: b.name.into(),
                version,
                class: b.class,
                description: b.description.into(),
                requires: Vec::new(),
                origin: Origin::Builtin,
                size: 0,
                entry: Entry::Builtin(b.init),
                state: Mutex::new(State::Inactive),
                refs: AtomicI64::new(0),
            })?;
        }
        Ok(())
    }

    /// Takes in a component from a library.
    pub fn add_library(
        &self,
        d: ComponentDesc,
        origin: Origin,
        size: u64,
    ) -> Result<Arc<Module>, AddError> {
        let name = d.name.to_string();
        let version = Version::parse(d.version.as_str()).map_err(|err| AddError::BadVersion {
            name: name.clone(),
            version: d.version.to_string(),
            err,
        })?;
        let mut requires = Vec::new();
        for r in d.requires.iter() {
            let req =
                VersionReq::parse(r.version.as_str()).map_err(|err| AddError::BadRequirement {
                    name: name.clone(),
                    on: r.name.to_string(),
                    req: r.version.to_string(),
                    err,
                })?;
            requires.push(Req {
                name: r.name.to_string(),
                text: r.version.to_string(),
                req,
            });
        }
        self.add(Module {
            name,
            version,
            class: d.class,
            description: d.description.to_string(),
            requires,
            origin,
            size,
            entry: Entry::Library(d.entry),
            state: Mutex::new(State::Inactive),
            refs: AtomicI64::new(0),
        })
    }

    /// Looks a component up by name.
    pub fn get(&self, name: &str) -> Option<Arc<Module>> {
        self.list.read().iter().find(|m| m.name == name).cloned()
    }

    fn all(&self) -> Vec<Arc<Module>> {
        self.list.read().clone()
    }

    /// Why `r` is not satisfied right now, if it is not.
    fn unmet(&self, owner: &Module, r: &Req) -> Option<String> {
        let who = format!(
            "{} {} requires {} {}",
            owner.name, owner.version, r.name, r.text
        );
        match self.get(&r.name) {
            None => Some(format!("{who}, which is not loaded")),
            Some(dep) if !r.req.matches(&dep.version) => {
                Some(format!("{who}, but version {} is loaded", dep.version))
            }
            Some(dep) => match &*dep.state.lock() {
                State::Failed(why) => Some(format!("{who}, which failed to start: {why}")),
                _ => None,
            },
        }
    }

    /// Checks, without starting anything, that every requirement of every
    /// component names a component that is present at a matching version.
    pub fn check_requirements(&self) -> Result<(), Vec<String>> {
        let problems: Vec<String> = self
            .all()
            .iter()
            .flat_map(|m| {
                m.requires
                    .iter()
                    .filter_map(|r| self.unmet(m, r))
                    .collect::<Vec<_>>()
            })
            .collect();
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }

    /// Describes each component for verbose boot messages.
    pub fn describe(&self) -> Vec<String> {
        self.all()
            .iter()
            .map(|m| {
                let from = match &m.origin {
                    Origin::Builtin => "built in".to_string(),
                    Origin::Library(p) | Origin::Module(p) => p.display().to_string(),
                };
                let state = match &*m.state.lock() {
                    State::Active => "active".to_string(),
                    State::Inactive => "inactive".to_string(),
                    State::Failed(why) => format!("failed: {why}"),
                };
                format!(
                    "component {} {} ({}, {from}): {state}",
                    m.name,
                    m.version,
                    m.class.name()
                )
            })
            .collect()
    }

    /// Activates every component whose requirements are met, in
    /// dependency order. With `strict`, any component left inactive is an
    /// error and the messages name every unmet requirement.
    pub fn activate_all(&self, strict: bool) -> Result<(), Vec<String>> {
        let _serial = self.activating.lock();
        loop {
            let mut progress = false;
            for m in self.all() {
                if *m.state.lock() != State::Inactive {
                    continue;
                }
                let ready = m.requires.iter().all(|r| {
                    self.get(&r.name).is_some_and(|d| {
                        r.req.matches(&d.version) && *d.state.lock() == State::Active
                    })
                });
                if ready {
                    self.start(&m);
                    progress = true;
                }
            }
            if !progress {
                break;
            }
        }
        let mut problems = Vec::new();
        for m in self.all() {
            if *m.state.lock() != State::Inactive {
                continue;
            }
            let unmet: Vec<String> = m
                .requires
                .iter()
                .filter_map(|r| self.unmet(&m, r))
                .collect();
            if unmet.is_empty() {
                problems.push(format!(
                    "{} {} is inactive: a requirement is inactive",
                    m.name, m.version
                ));
            }
            problems.extend(unmet);
        }
        if problems.is_empty() {
            return Ok(());
        }
        if strict {
            return Err(problems);
        }
        for p in &problems {
            tracing::warn!("{p}; it stays inactive until that is loaded");
        }
        Ok(())
    }

    fn start(&self, m: &Arc<Module>) {
        let kernel = services::handle(&m.name);
        let r = match &m.entry {
            Entry::Builtin(init) => init(&kernel),
            Entry::Library(e) => e
                .init(kernel.obj().clone())
                .into_result()
                .map_err(String::from),
        };
        let mut st = m.state.lock();
        match r {
            Ok(()) => {
                tracing::debug!(component = %m.name, version = %m.version, "active");
                *st = State::Active;
            }
            Err(why) => {
                tracing::error!(component = %m.name, "failed to start: {why}");
                super::kernel().syscalls.unregister_owner(&m.name);
                *st = State::Failed(why);
            }
        }
    }

    /// Checks that `name` is present at a version matching `req` and
    /// active, activating it (and what it needs) if it can be.
    pub fn require(&self, name: &str, req: &str) -> Result<(), String> {
        let vreq =
            VersionReq::parse(req).map_err(|e| format!("bad version requirement `{req}`: {e}"))?;
        let Some(m) = self.get(name) else {
            return Err(format!("{name} {req} is not loaded"));
        };
        if !vreq.matches(&m.version) {
            return Err(format!(
                "{name} {req} is required, but version {} is loaded",
                m.version
            ));
        }
        let state = m.state.lock().clone();
        match state {
            State::Active => Ok(()),
            State::Failed(why) => Err(format!("{name} failed to start: {why}")),
            State::Inactive => {
                let unmet: Vec<String> = m
                    .requires
                    .iter()
                    .filter_map(|r| self.unmet(&m, r))
                    .collect();
                if !unmet.is_empty() {
                    return Err(unmet.join("; "));
                }
                for r in &m.requires {
                    self.require(&r.name, &r.text)?;
                }
                let _serial = self.activating.lock();
                if *m.state.lock() == State::Inactive {
                    self.start(&m);
                }
                match &*m.state.lock() {
                    State::Active => Ok(()),
                    State::Failed(why) => Err(format!("{name} failed to start: {why}")),
                    State::Inactive => Err(format!("{name} is inactive")),
                }
            }
        }
    }

    /// One line naming the inactive components and what they lack.
    pub fn inactive_summary(&self) -> String {
        self.all()
            .iter()
            .filter(|m| *m.state.lock() == State::Inactive)
            .flat_map(|m| {
                m.requires
                    .iter()
                    .filter_map(|r| self.unmet(m, r))
                    .collect::<Vec<_>>()
            })
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// Counts uses of component `name` from outside the module system.
    pub fn add_ref(&self, name: &str, delta: i32) {
        if let Some(m) = self.get(name) {
            m.refs.fetch_add(i64::from(delta), Ordering::AcqRel);
        }
    }

    /// How many users component `name` has: active components that require
    /// it, and outside uses such as mounts.
    fn refcount(&self, m: &Module) -> u32 {
        let dependents = self
            .all()
            .iter()
            .filter(|o| {
                *o.state.lock() == State::Active && o.requires.iter().any(|r| r.name == m.name)
            })
            .count() as i64;
        (dependents + m.refs.load(Ordering::Acquire).max(0)) as u32
    }

    /// Loads a module file: its components join the kernel and start.
    /// `shown` names it in modstat; `bytes` are its contents.
    pub fn load_module(&self, shown: &Path, bytes: &[u8]) -> Result<Vec<String>, Errno> {
        let loaded = crate::loader::load_bytes(bytes).map_err(|e| {
            tracing::warn!("module {}: {e}", shown.display());
            Errno::ENOEXEC
        })?;
        let mut names = Vec::new();
        for c in loaded.components {
            let name = c.name.to_string();
            if self.get(&name).is_some() {
                return Err(Errno::EEXIST);
            }
            self.add_library(c, Origin::Module(shown.to_path_buf()), bytes.len() as u64)
                .map_err(|e| {
                    tracing::warn!("module {}: {e}", shown.display());
                    Errno::EINVAL
                })?;
            names.push(name);
        }
        let _ = self.activate_all(false);
        for n in &names {
            if let Some(m) = self.get(n) {
                if let State::Failed(why) = &*m.state.lock() {
                    tracing::warn!("module {n} failed to start: {why}");
                }
            }
        }
        Ok(names)
    }

    /// Unloads component `name`: EBUSY while anything uses it or when it is
    /// built in, ENOENT if there is none.
    pub fn unload(&self, name: &str) -> Result<(), Errno> {
        let m = self.get(name).ok_or(Errno::ENOENT)?;
        if m.origin == Origin::Builtin || self.refcount(&m) > 0 {
            return Err(Errno::EBUSY);
        }
        if let Entry::Library(e) = &m.entry {
            if *m.state.lock() == State::Active {
                e.fini().into_result().map_err(|why| {
                    tracing::warn!(component = %name, "unload refused: {why}");
                    Errno::EBUSY
                })?;
            }
        }
        let k = super::kernel();
        k.syscalls.unregister_owner(name);
        k.factions.forget(name);
        self.list.write().retain(|x| x.name != name);
        Ok(())
    }

    /// modstat records, in load order.
    pub fn stat(&self) -> Vec<ModStat> {
        let all = self.all();
        all.iter()
            .map(|m| {
                let refcnt = self.refcount(m);
                let required: Vec<&str> = m.requires.iter().map(|r| r.name.as_str()).collect();
                ModStat {
                    name: m.name.clone(),
                    required: required.join(","),
                    addr: 0,
                    source: match m.origin {
                        Origin::Builtin => ModSource::Kernel,
                        Origin::Library(_) => ModSource::Boot,
                        Origin::Module(_) => ModSource::Filesys,
                    } as i32,
                    class: match m.class {
                        ComponentClass::Fs => ModClass::Vfs,
                        ComponentClass::Dev => ModClass::Driver,
                        ComponentClass::Secmodel => ModClass::Secmodel,
                        ComponentClass::Faction | ComponentClass::Module => ModClass::Misc,
                    } as i32,
                    size: u32::try_from(m.size).unwrap_or(u32::MAX),
                    refcnt,
                    flags: 0,
                }
            })
            .collect()
    }
}

impl Default for Modules {
    fn default() -> Self {
        Self::new()
    }
}

/// The contents of the module a modctl load names: a path with a slash is
/// read through the kernel's VFS; a bare name is `<name>.kmod` in the
/// server's plugin directory (the role of NetBSD's module directory).
fn module_file(name: &[u8]) -> Result<(PathBuf, Vec<u8>), Errno> {
    let shown = PathBuf::from(String::from_utf8_lossy(name).into_owned());
    if name.contains(&b'/') {
        let vfs = super::kernel().factions.vfs().ok_or(Errno::ENOSYS)?;
        let bytes = vfs.read_file(name.into()).into_result()?;
        return Ok((shown, bytes.into_vec()));
    }
    let file = crate::loader::plugin_dir().join(format!("{}.kmod", shown.display()));
    let bytes = std::fs::read(&file).map_err(|e| Errno::from_io(&e))?;
    Ok((file, bytes))
}

/// modctl(cmd, arg).
pub fn sys_modctl(lwp: &mut LwpCtx<'_>, a: &Args) -> KResult<SysRet> {
    let (cmd, arg) = (a.int(0), a.ptr(1));
    match cmd {
        MODCTL_STAT => {
            let iov = lwp.copyin_vec(arg, 16)?;
            let r = Reader::new(&iov);
            let (base, len) = (r.u64(0), r.u64(8));
            let records: Vec<u8> = super::kernel()
                .modules
                .stat()
                .iter()
                .flat_map(|m| m.encode())
                .collect();
            let n = (records.len() as u64).min(len) as usize;
            lwp.copyout(base, &records[..n])?;
            let mut back = [0u8; 16];
            back[..8].copy_from_slice(&base.to_le_bytes());
            back[8..].copy_from_slice(&(records.len() as u64).to_le_bytes());
            lwp.copyout(arg, &back)?;
            Ok(SysRet::ZERO)
        }
        MODCTL_EXISTS => Ok(SysRet::ZERO),
        MODCTL_LOAD => {
            let ml = ModctlLoad::decode(&lwp.copyin_vec(arg, ModctlLoad::SIZE)?);
            let name = lwp.copyinstr(ml.filename, netbsd_abi::limits::MAXPATHLEN)?;
            let (shown, bytes) = module_file(&name)?;
            super::kernel().modules.load_module(&shown, &bytes)?;
            Ok(SysRet::ZERO)
        }
        MODCTL_UNLOAD => {
            let name = lwp.copyinstr(arg, netbsd_abi::limits::MAXPATHLEN)?;
            super::kernel()
                .modules
                .unload(&String::from_utf8_lossy(&name))?;
            Ok(SysRet::ZERO)
        }
        _ => Err(Errno::EINVAL),
    }
}
