// Package swiftgen is a protoc plugin (run by buf generate through
// cmd/protoc-gen-cosync-swift) that writes a dependency-free Swift client:
// Codable models that speak proto3 JSON exactly as Go's protojson writes it,
// an async/await client per service over URLSession speaking Connect unary
// JSON, and the small runtime both need (well-known types, ConnectError).
//
// We write our own because the official Swift generators need a Swift
// toolchain, and our machines have none. What cannot be compiled here is
// checked otherwise: golden files, a tree-sitter parse of every file, and
// the server's recorded JSON held against the model the Swift was printed
// from (see the tests).
package swiftgen

import (
	"embed"
	"fmt"
	"path"
	"strings"

	"google.golang.org/protobuf/compiler/protogen"
	"google.golang.org/protobuf/types/pluginpb"
)

//go:embed runtime/*.swift
var runtime embed.FS

// Options are the plugin's parameters (buf.gen.yaml `opt:`).
type Options struct {
	// StripPackagePrefix is dropped from proto packages before they name
	// Swift namespaces: "cosync" makes cosync.auth.v1 AuthV1. Default none
	// (CosyncAuthV1).
	StripPackagePrefix string
}

// Set parses one `key=value` parameter; it fits protogen.Options.ParamFunc.
func (o *Options) Set(key, value string) error {
	switch key {
	case "strip_package_prefix":
		o.StripPackagePrefix = value
		return nil
	}
	return fmt.Errorf("protoc-gen-cosync-swift: unknown parameter %q", key)
}

// Generate writes the Swift files of every file the plugin is asked to
// generate, one namespace file per package, and the runtime. Run it with
// the "all" strategy: the runtime is written once per invocation.
func Generate(plugin *protogen.Plugin, opts Options) error {
	_, err := GenerateModel(plugin, opts)
	return err
}

// GenerateModel is Generate that also returns the model it printed, which
// tests hold recorded JSON against.
func GenerateModel(plugin *protogen.Plugin, opts Options) (*Model, error) {
	plugin.SupportedFeatures = uint64(pluginpb.CodeGeneratorResponse_FEATURE_PROTO3_OPTIONAL)
	var files []*protogen.File
	for _, f := range plugin.Files {
		if f.Generate {
			files = append(files, f)
		}
	}
	if len(files) == 0 {
		return &Model{}, nil
	}
	model, err := NewModel(files, opts.StripPackagePrefix)
	if err != nil {
		return nil, err
	}
	for _, f := range model.Files {
		plugin.NewGeneratedFile(fileName(f), "").P(strings.TrimSuffix(emitFile(f), "\n"))
	}
	pkgs, byPkg := model.packages()
	for _, pkg := range pkgs {
		var msgs []*Message
		for _, f := range byPkg[pkg] {
			msgs = append(msgs, allMessages(f.Messages)...)
		}
		ns := byPkg[pkg][0].Namespace
		name := strings.ReplaceAll(pkg, ".", "_") + ".namespace.swift"
		plugin.NewGeneratedFile(name, "").P(strings.TrimSuffix(emitNamespace(pkg, ns, msgs), "\n"))
	}
	entries, err := runtime.ReadDir("runtime")
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		b, err := runtime.ReadFile(path.Join("runtime", e.Name()))
		if err != nil {
			return nil, err
		}
		plugin.NewGeneratedFile(e.Name(), "").P(strings.TrimSuffix(string(b), "\n"))
	}
	return model, nil
}
