//! server (not built yet).

fn main() {
    eprintln!("not built yet");
    std::process::exit(2);
}
