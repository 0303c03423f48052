// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "ami",
    products: [
        .library(name: "AMICore", targets: ["AMICore"]),
        .executable(name: "ami-decode", targets: ["ami-decode"]),
        .executable(name: "ami-read", targets: ["ami-read"]),
        .executable(name: "ami-fuzz", targets: ["ami-fuzz"]),
        .executable(name: "ami-store", targets: ["ami-store"]),
        .executable(name: "ami-export", targets: ["ami-export"]),
        .executable(name: "ami-bill", targets: ["ami-bill"]),
        .executable(name: "ami-report", targets: ["ami-report"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.20"),
    ],
    targets: [
        // libcrypto from Debian's libssl-dev (AES-GCM for DLMS security suite 0, AES for wireless M-Bus).
        .systemLibrary(
            name: "COpenSSL",
            pkgConfig: "libcrypto",
            providers: [.apt(["libssl-dev"])]
        ),
        // The system libsqlite3 (Debian's libsqlite3-dev) for ami-store's database.
        .systemLibrary(
            name: "CSQLite",
            pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]
        ),
        // The system libxml2 (Debian's libxml2-dev) for ami-export's XML writer and readers.
        .systemLibrary(
            name: "CLibXML2",
            pkgConfig: "libxml-2.0",
            providers: [.apt(["libxml2-dev"])]
        ),
        // Everything the tools share: byte cursor, exact values, records, decoders, the store.
        .target(
            name: "AMICore",
            dependencies: ["COpenSSL", "CSQLite", "CLibXML2", .product(name: "ZIPFoundation", package: "ZIPFoundation")]
        ),
        // The command-line layer every tool reuses: options, checked stdout, exit codes, diagnostics.
        .target(
            name: "AMICLI",
            dependencies: ["AMICore", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .executableTarget(name: "ami-decode", dependencies: ["AMICore", "AMICLI"]),
        .executableTarget(name: "ami-read", dependencies: ["AMICore", "AMICLI"]),
        .executableTarget(name: "ami-store", dependencies: ["AMICore", "AMICLI"]),
        .executableTarget(name: "ami-report", dependencies: ["AMICore", "AMICLI"]),
        .executableTarget(name: "ami-export", dependencies: ["AMICore", "AMICLI"]),
        .executableTarget(name: "ami-bill", dependencies: ["AMICore", "AMICLI"]),
        // Corpus replayer by default; a libFuzzer binary when built by scripts/fuzz with -DFUZZING.
        .executableTarget(name: "ami-fuzz", dependencies: ["AMICore"]),
        .testTarget(name: "AMICoreTests", dependencies: ["AMICore", "AMICLI"], resources: [.copy("Fixtures")]),
        .testTarget(name: "EndToEndTests",
                    dependencies: ["ami-decode", "ami-read", "ami-fuzz", "ami-store", "ami-report", "ami-export", "ami-bill"]),
    ],
    swiftLanguageModes: [.v6]
)
