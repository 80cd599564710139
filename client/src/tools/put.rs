//! rump.put [-Rv] host_source ... kernel_target: copies host files (and,
//! with -R, trees) into the kernel with cp(1)'s target rules, keeping
//! owner, modes and times and copying symbolic links as links.

use super::copy::{transfer, Copier};
use super::fsops::{Host, Kernel};

pub fn main(prog: &str, args: &[String]) -> i32 {
    let text = format!(
        "usage: {prog} [-Rv] host_source kernel_target\n       \
         {prog} [-Rv] host_source ... kernel_directory\n"
    );
    transfer(prog, args, &text, |client, opts, sources, target| {
        let k = Kernel(client);
        Copier::new(prog, &Host, &k, opts).run(sources, target)
    })
}
