package swiftgen

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/protobuf/compiler/protogen"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
	_ "google.golang.org/protobuf/types/known/durationpb"
	_ "google.golang.org/protobuf/types/known/emptypb"
	_ "google.golang.org/protobuf/types/known/fieldmaskpb"
	_ "google.golang.org/protobuf/types/known/structpb"
	_ "google.golang.org/protobuf/types/known/timestamppb"
	_ "google.golang.org/protobuf/types/known/wrapperspb"
	"google.golang.org/protobuf/types/pluginpb"

	adminv1 "github.com/cosync/cosync-auth/sdk/go/cosync/admin/v1"
	authv1 "github.com/cosync/cosync-auth/sdk/go/cosync/auth/v1"
)

var update = flag.Bool("update", false, "rewrite golden files and fixtures from what the tests produce")

// runPlugin runs the generator in-process, as protoc would run the plugin,
// on the given files; it returns the model and the files written.
func runPlugin(tb testing.TB, param string, files ...protoreflect.FileDescriptor) (*Model, map[string]string) {
	tb.Helper()
	req := &pluginpb.CodeGeneratorRequest{Parameter: proto.String(param)}
	seen := map[string]bool{}
	var add func(fd protoreflect.FileDescriptor)
	add = func(fd protoreflect.FileDescriptor) {
		if seen[fd.Path()] {
			return
		}
		seen[fd.Path()] = true
		imports := fd.Imports()
		for i := 0; i < imports.Len(); i++ {
			add(imports.Get(i).FileDescriptor)
		}
		req.ProtoFile = append(req.ProtoFile, protodesc.ToFileDescriptorProto(fd))
	}
	for _, fd := range files {
		add(fd)
		req.FileToGenerate = append(req.FileToGenerate, fd.Path())
	}
	var opts Options
	plugin, err := protogen.Options{ParamFunc: opts.Set}.New(req)
	if err != nil {
		tb.Fatal(err)
	}
	model, err := GenerateModel(plugin, opts)
	if err != nil {
		tb.Fatal(err)
	}
	resp := plugin.Response()
	if resp.Error != nil {
		tb.Fatal(resp.GetError())
	}
	out := map[string]string{}
	for _, f := range resp.File {
		out[f.GetName()] = f.GetContent()
	}
	return model, out
}

// kitchenFile is testdata/kitchen.textproto as a file descriptor.
func kitchenFile(tb testing.TB) protoreflect.FileDescriptor {
	tb.Helper()
	b, err := os.ReadFile("testdata/kitchen.textproto")
	if err != nil {
		tb.Fatal(err)
	}
	var fdp descriptorpb.FileDescriptorProto
	if err := prototext.Unmarshal(b, &fdp); err != nil {
		tb.Fatal(err)
	}
	fd, err := protodesc.NewFile(&fdp, protoregistry.GlobalFiles)
	if err != nil {
		tb.Fatal(err)
	}
	return fd
}

// cosyncFiles are the real contract's files, as the Go SDK registers them.
func cosyncFiles() []protoreflect.FileDescriptor {
	return []protoreflect.FileDescriptor{
		authv1.File_cosync_auth_v1_types_proto,
		authv1.File_cosync_auth_v1_errors_proto,
		authv1.File_cosync_auth_v1_auth_proto,
		adminv1.File_cosync_admin_v1_types_proto,
		adminv1.File_cosync_admin_v1_admin_proto,
	}
}

// cosyncModel is the model the committed Swift SDK was printed from.
func cosyncModel(tb testing.TB) (*Model, map[string]string) {
	tb.Helper()
	return runPlugin(tb, "strip_package_prefix=cosync", cosyncFiles()...)
}

// checkGolden compares got with the file at path, or rewrites it with -update.
func checkGolden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run the test with -update to write it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs from what the test produced; diff:\n%s\n(run with -update to rewrite it)", path, firstDiff(string(want), got))
	}
}

// firstDiff shows the first differing line, which is enough to find a change.
func firstDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			return "line " + strconv.Itoa(i+1) + ":\n- " + wl + "\n+ " + gl
		}
	}
	return "(none)"
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

var docLine = regexp.MustCompile(`(?m)^[ \t]*///.*\n`)

// withoutDocs drops doc-comment lines: descriptors compiled into Go code
// carry no comments, so only the code can be compared with buf's output.
func withoutDocs(s string) string { return docLine.ReplaceAllString(s, "") }
