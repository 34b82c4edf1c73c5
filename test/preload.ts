// Test preload: loads the reflect polyfill that @peculiar/x509 needs before any test imports it.
// Kept here so every test file gets the same runtime setup as the binaries.
import "reflect-metadata";
