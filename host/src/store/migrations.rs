//! Schema migrations. SKELETON.
