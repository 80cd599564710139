//! rump_allserver: a rump kernel with every component of its plugin
//! directory preloaded.

fn main() {
    std::process::exit(rump_host::app::main(rump_host::cli::Flavor::AllServer));
}
