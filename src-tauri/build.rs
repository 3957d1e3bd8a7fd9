fn main() {
    // Capabilities live beside the shell's sources, not at the repository root.
    tauri_build::try_build(
        tauri_build::Attributes::new().capabilities_path_pattern("src-tauri/capabilities/**/*"),
    )
    .expect("tauri build script failed");
}
