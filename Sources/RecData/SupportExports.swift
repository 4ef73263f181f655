// Atomic writes, the seeded generator and content hashing live in Support, below every module;
// RecData's users keep seeing them through it.
@_exported import Support
