//! `sqlx::migrate!` embeds the migrations at compile time, but cannot tell cargo that a new
//! migration file appeared: this does, so that a new migration is never silently left out.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
