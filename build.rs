// The migrations (`sqlx::migrate!`) and the browser catalog (`include_bytes!`) are embedded in the
// binary; rebuild when they change.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
    println!("cargo:rerun-if-changed=static");
}
