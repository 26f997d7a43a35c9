// Command protoc-gen-cosync-swift is a protoc plugin that writes the Swift
// SDK: proto3 JSON Codable models and Connect clients over URLSession (see
// package swiftgen). buf generate runs it from buf.gen.yaml.
package main

import (
	"google.golang.org/protobuf/compiler/protogen"

	"github.com/cosync/cosync-auth/internal/swiftgen"
)

func main() {
	var opts swiftgen.Options
	protogen.Options{ParamFunc: opts.Set}.Run(func(p *protogen.Plugin) error {
		return swiftgen.Generate(p, opts)
	})
}
