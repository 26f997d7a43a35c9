// swift-tools-version:5.9
// The CoSync Auth Swift SDK: generated models and Connect clients
// (Sources/Cosync/Generated, written by buf generate with our own plugin,
// internal/swiftgen) plus the hand-written CosyncAuth session helper. No
// dependencies beyond Foundation.
import PackageDescription

let package = Package(
    name: "Cosync",
    platforms: [.macOS(.v12), .iOS(.v15), .tvOS(.v15), .watchOS(.v8)],
    products: [
        .library(name: "Cosync", targets: ["Cosync"]),
    ],
    targets: [
        .target(name: "Cosync", path: "Sources/Cosync"),
        // Replays the wire fixtures the Go tests record from the real server.
        .testTarget(name: "CosyncTests", dependencies: ["Cosync"], path: "Tests", exclude: ["Fixtures"]),
    ]
)
