package swiftgen

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// fixtureDir is where the Swift test target reads its fixtures.
var fixtureDir = filepath.Join("..", "..", "sdk", "swift", "Tests", "Fixtures")

// messageFixture is one message with every field set, as the server's
// protojson writes it.
type messageFixture struct {
	Message string          `json:"message"`
	Variant string          `json:"variant,omitempty"` // the oneof member set, when not the first
	JSON    json.RawMessage `json:"json"`
}

// TestMessageFixtures fills every field of every message of cosync.auth.v1
// and cosync.admin.v1 (one variant per oneof member), marshals it as the
// server does (connect-go's JSON codec is protojson with default options),
// holds the JSON against the Swift model, and compares the result with
// Tests/Fixtures/messages.json, which the Swift tests decode and re-encode.
func TestMessageFixtures(t *testing.T) {
	model, _ := cosyncModel(t)
	var fixtures []messageFixture
	for _, fd := range cosyncFiles() {
		for _, md := range allDescriptors(fd.Messages()) {
			mt, err := protoregistry.GlobalTypes.FindMessageByName(md.FullName())
			if err != nil {
				t.Fatal(err)
			}
			swift := model.Messages[md.FullName()]
			if swift == nil {
				t.Fatalf("%s: the generator emitted no Swift type", md.FullName())
			}
			for _, variant := range variants(md) {
				m := mt.New()
				fill(m, variant, 0)
				raw, err := protojson.MarshalOptions{}.Marshal(m.Interface())
				if err != nil {
					t.Fatal(err)
				}
				v := decodeJSON(t, raw)
				for _, e := range checkJSON(swift, v, string(md.FullName())) {
					t.Error(e)
				}
				fixtures = append(fixtures, messageFixture{Message: string(md.FullName()), Variant: variantName(md, variant), JSON: canonical(t, v)})
			}
		}
	}
	checkGolden(t, filepath.Join(fixtureDir, "messages.json"), string(indent(t, fixtures)))
}

// TestCheckJSONCatchesMismatches makes sure the check can fail: each case
// is server JSON the Swift model would not read.
func TestCheckJSONCatchesMismatches(t *testing.T) {
	model, _ := cosyncModel(t)
	for _, tc := range []struct{ name, msg, json string }{
		{"unknown key", "cosync.auth.v1.User", `{"nickname": "x"}`},
		{"snake_case key", "cosync.auth.v1.User", `{"user_name": "x"}`},
		{"int64 as number", "cosync.admin.v1.DailyStats", `{"signups": 3}`},
		{"unknown enum name", "cosync.auth.v1.User", `{"status": "USER_STATUS_GONE"}`},
		{"timestamp as number", "cosync.auth.v1.Session", `{"expiresAt": 1700000000}`},
		{"duration without unit", "cosync.admin.v1.AppSettings", `{"tokenLifetime": "3600"}`},
		{"mask in snake case", "cosync.admin.v1.UpdateAppRequest", `{"updateMask": "settings.signup_flow"}`},
		{"bytes not base64", "cosync.auth.v1.BeginTotpEnrollmentResponse", `{"qrPng": "not base64!"}`},
		{"nested mismatch", "cosync.auth.v1.LoginResponse", `{"session": {"user": {"createdAt": "yesterday"}}}`},
		{"two oneof members", "cosync.auth.v1.LoginResponse", `{"session": {}, "challenge": {}}`},
		{"repeated as scalar", "cosync.auth.v1.Application", `{"locales": "en"}`},
	} {
		errs := checkJSON(model.Messages[protoreflect.FullName(tc.msg)], decodeJSON(t, []byte(tc.json)), tc.msg)
		if len(errs) == 0 {
			t.Errorf("%s: checkJSON(%s, %s) found nothing wrong", tc.name, tc.msg, tc.json)
		}
	}
}

func allDescriptors(ms protoreflect.MessageDescriptors) []protoreflect.MessageDescriptor {
	var out []protoreflect.MessageDescriptor
	for i := 0; i < ms.Len(); i++ {
		md := ms.Get(i)
		if md.IsMapEntry() {
			continue
		}
		out = append(out, md)
		out = append(out, allDescriptors(md.Messages())...)
	}
	return out
}

// variants lists which member each real oneof sets: first the first member
// of every oneof, then each other member in turn.
func variants(md protoreflect.MessageDescriptor) []map[protoreflect.FullName]int {
	out := []map[protoreflect.FullName]int{{}}
	for i := 0; i < md.Oneofs().Len(); i++ {
		o := md.Oneofs().Get(i)
		if o.IsSynthetic() {
			continue
		}
		for j := 1; j < o.Fields().Len(); j++ {
			out = append(out, map[protoreflect.FullName]int{o.FullName(): j})
		}
	}
	return out
}

func variantName(md protoreflect.MessageDescriptor, v map[protoreflect.FullName]int) string {
	for name, j := range v {
		return string(md.Oneofs().ByName(name.Name()).Fields().Get(j).Name())
	}
	return ""
}

// fixedTime has nanoseconds, so timestamps show their fraction.
var fixedTime = time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC)

// fill sets every field of m to a value that is not the default (and is
// awkward where JSON makes it so: 64-bit integers past 2^53, base64 with +
// and /, quotes and non-ASCII in strings). Nested messages stop at depth 3.
func fill(m protoreflect.Message, choose map[protoreflect.FullName]int, depth int) {
	fields := m.Descriptor().Fields()
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		if o := fd.ContainingOneof(); o != nil && !o.IsSynthetic() && o.Fields().Get(choose[o.FullName()]) != fd {
			continue
		}
		switch {
		case fd.IsList():
			list := m.Mutable(fd).List()
			for j := 0; j < 2; j++ {
				if v, ok := value(m, fd, j, depth); ok {
					list.Append(v)
				}
			}
		case fd.IsMap():
			mp := m.Mutable(fd).Map()
			for j := 0; j < 2; j++ {
				k, _ := value(m, fd.MapKey(), j, depth)
				if v, ok := value(m, fd.MapValue(), j, depth); ok {
					mp.Set(k.MapKey(), v)
				}
			}
		default:
			if v, ok := value(m, fd, 0, depth); ok {
				m.Set(fd, v)
			}
		}
	}
}

func value(_ protoreflect.Message, fd protoreflect.FieldDescriptor, j int, depth int) (protoreflect.Value, bool) {
	switch fd.Kind() {
	case protoreflect.BoolKind:
		return protoreflect.ValueOfBool(j == 0), true
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		return protoreflect.ValueOfInt32(int32(42 - 100*j)), true
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		return protoreflect.ValueOfUint32(uint32(4000000000 + j)), true
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		return protoreflect.ValueOfInt64(int64(9007199254740993) * int64(1-2*j)), true
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return protoreflect.ValueOfUint64(uint64(18446744073709551615) - uint64(j)), true
	case protoreflect.FloatKind:
		return protoreflect.ValueOfFloat32(1.5 + float32(j)), true
	case protoreflect.DoubleKind:
		return protoreflect.ValueOfFloat64(0.1 + float64(j)), true
	case protoreflect.StringKind:
		return protoreflect.ValueOfString(string(fd.Name()) + ` "é" ` + string(rune('a'+j))), true
	case protoreflect.BytesKind:
		return protoreflect.ValueOfBytes([]byte{0xfb, 0xff, byte(j), 0x01}), true
	case protoreflect.EnumKind:
		vals := fd.Enum().Values()
		return protoreflect.ValueOfEnum(vals.Get(max(vals.Len()-1-j, 0)).Number()), true
	}
	var wkt proto.Message
	switch fd.Message().FullName() {
	case "google.protobuf.Timestamp":
		wkt = timestamppb.New(fixedTime.Add(time.Duration(j) * time.Hour))
	case "google.protobuf.Duration":
		wkt = durationpb.New(1500*time.Millisecond + time.Duration(j)*time.Hour)
	case "google.protobuf.FieldMask":
		wkt = &fieldmaskpb.FieldMask{Paths: []string{"name", "settings.signup_flow"}}
	case "google.protobuf.Struct":
		s, err := structpb.NewStruct(map[string]any{"name": "Ann", "age": 41.5, "tags": []any{"a", true, nil}, "user_data": map[string]any{"plan": "pro"}})
		if err != nil {
			panic(err)
		}
		wkt = s
	case "google.protobuf.Value":
		wkt = structpb.NewStringValue("any")
	case "google.protobuf.Empty":
		wkt = &emptypb.Empty{}
	case "google.protobuf.Int64Value":
		wkt = wrapperspb.Int64(0)
	case "google.protobuf.StringValue":
		wkt = wrapperspb.String("")
	}
	if wkt != nil {
		return protoreflect.ValueOfMessage(wkt.ProtoReflect()), true
	}
	if depth >= 3 {
		return protoreflect.Value{}, false
	}
	mt, err := protoregistry.GlobalTypes.FindMessageByName(fd.Message().FullName())
	if err != nil {
		panic(err)
	}
	child := mt.New()
	fill(child, nil, depth+1)
	return protoreflect.ValueOfMessage(child), true
}

// decodeJSON decodes with json.Number, so integers keep their text.
func decodeJSON(tb testing.TB, b []byte) any {
	tb.Helper()
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		tb.Fatalf("%v in %s", err, b)
	}
	return v
}

// canonical re-encodes a decoded value with sorted keys: protojson's own
// spacing is deliberately unstable.
func canonical(tb testing.TB, v any) json.RawMessage {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func indent(tb testing.TB, v any) []byte {
	tb.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}
