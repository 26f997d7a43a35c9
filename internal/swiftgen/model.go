package swiftgen

import (
	"fmt"
	"strings"

	"google.golang.org/protobuf/compiler/protogen"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Kind is how one value is written in proto3 JSON, and so which Swift type
// holds it and which JSON values the Swift decoder accepts.
type Kind int

// The kinds, one per distinct JSON encoding.
const (
	KindString    Kind = iota // JSON string
	KindBool                  // JSON true/false
	KindInt32                 // JSON number (a numeric string is accepted)
	KindUInt32                // JSON number (a numeric string is accepted)
	KindInt64                 // JSON string of digits (a number is accepted)
	KindUInt64                // JSON string of digits (a number is accepted)
	KindFloat                 // JSON number, or "NaN", "Infinity", "-Infinity"
	KindDouble                // JSON number, or "NaN", "Infinity", "-Infinity"
	KindBytes                 // JSON string, base64
	KindEnum                  // JSON string naming a value (a number is accepted)
	KindMessage               // JSON object of the message's fields
	KindTimestamp             // JSON string, RFC 3339
	KindDuration              // JSON string, seconds with an "s" suffix
	KindFieldMask             // JSON string, comma-joined lowerCamelCase paths
	KindStruct                // JSON object of any values
	KindValue                 // any JSON value
	KindListValue             // JSON array of any values
	KindEmpty                 // JSON object {}
)

var kindNames = [...]string{"string", "bool", "int32", "uint32", "int64", "uint64", "float", "double",
	"bytes", "enum", "message", "timestamp", "duration", "field mask", "struct", "value", "list value", "empty"}

func (k Kind) String() string { return kindNames[k] }

// Type is the type of one value (a field, a repeated element or a map value).
type Type struct {
	Kind    Kind
	Swift   string   // the Swift type, e.g. "Int64", "AuthV1.User", "ProtoTimestamp"
	Enum    *Enum    // for KindEnum
	Message *Message // for KindMessage
}

// Field is one field of a message as the Swift model holds it.
type Field struct {
	Desc      protoreflect.FieldDescriptor
	ProtoName string // "access_token": accepted on decode
	JSONName  string // "accessToken": written on encode
	SwiftName string // the property (or oneof case) name, escaped
	Type      Type   // the value, the repeated element, or the map value
	MapKey    *Type  // for maps
	Repeated  bool
	Optional  bool   // explicit presence: a Swift optional, written whenever set
	Oneof     *Oneof // the real oneof the field belongs to
	Indirect  bool   // stored on the heap: the message can reach itself through it
	Comments  protogen.CommentSet
}

// Map reports whether the field is a map.
func (f *Field) Map() bool { return f.MapKey != nil }

// Oneof is a real (not synthetic) oneof, a Swift enum with associated values.
type Oneof struct {
	ProtoName string
	SwiftName string // the property
	TypeName  string // the enum, nested in the message
	Fields    []*Field
	Indirect  bool
	Comments  protogen.CommentSet
}

// Message is a message as a Swift struct.
type Message struct {
	FullName  protoreflect.FullName
	LocalName string // "User", or "Outer.Inner" relative to the namespace
	Swift     string // "AuthV1.User"
	Fields    []*Field
	Oneofs    []*Oneof
	Messages  []*Message
	Enums     []*Enum
	Comments  protogen.CommentSet
	mapEntry  bool
}

// FieldByJSON finds a field by its JSON name or its proto name.
func (m *Message) FieldByJSON(key string) *Field {
	for _, f := range m.Fields {
		if f.JSONName == key || f.ProtoName == key {
			return f
		}
	}
	return nil
}

// Enum is an enum as a Swift enum with an unrecognized case.
type Enum struct {
	FullName  protoreflect.FullName
	LocalName string
	Swift     string
	Values    []*EnumValue
	Comments  protogen.CommentSet
}

// ValueByName finds a value by its proto name.
func (e *Enum) ValueByName(name string) *EnumValue {
	for _, v := range e.Values {
		if v.ProtoName == name {
			return v
		}
	}
	return nil
}

// EnumValue is one enum value.
type EnumValue struct {
	ProtoName string
	Number    int32
	Case      string // escaped
	Alias     bool   // a second name for a number already listed
	Comments  protogen.CommentSet
}

// Service is a service as a Swift client struct.
type Service struct {
	FullName protoreflect.FullName
	Client   string // "AuthServiceClient", nested in the namespace
	Methods  []*Method
	Comments protogen.CommentSet
}

// Method is one unary RPC.
type Method struct {
	Name      string
	SwiftName string
	Path      string // "/cosync.auth.v1.AuthService/Login"
	Input     *Message
	Output    *Message
	Comments  protogen.CommentSet
}

// File is what one .proto file contributes.
type File struct {
	Proto     *protogen.File
	Namespace string
	Messages  []*Message
	Enums     []*Enum
	Services  []*Service
}

// Model is everything the generator writes, built once from the request and
// then printed. Tests use it to check recorded JSON against the Swift models.
type Model struct {
	Files      []*File
	Messages   map[protoreflect.FullName]*Message
	Enums      map[protoreflect.FullName]*Enum
	Namespaces map[protoreflect.FullName]string // proto package → Swift namespace
}

// wellKnown maps message types with their own JSON form to Swift types.
var wellKnown = map[protoreflect.FullName]Type{
	"google.protobuf.Timestamp": {Kind: KindTimestamp, Swift: "ProtoTimestamp"},
	"google.protobuf.Duration":  {Kind: KindDuration, Swift: "ProtoDuration"},
	"google.protobuf.FieldMask": {Kind: KindFieldMask, Swift: "ProtoFieldMask"},
	"google.protobuf.Struct":    {Kind: KindStruct, Swift: "ProtoStruct"},
	"google.protobuf.Value":     {Kind: KindValue, Swift: "JSONValue"},
	"google.protobuf.ListValue": {Kind: KindListValue, Swift: "ProtoListValue"},
	"google.protobuf.Empty":     {Kind: KindEmpty, Swift: "ProtoEmpty"},
}

// wrappers are google.protobuf's wrapper messages: in JSON the bare value,
// in Swift an optional scalar.
var wrappers = map[protoreflect.FullName]Type{
	"google.protobuf.DoubleValue": {Kind: KindDouble, Swift: "Double"},
	"google.protobuf.FloatValue":  {Kind: KindFloat, Swift: "Float"},
	"google.protobuf.Int64Value":  {Kind: KindInt64, Swift: "Int64"},
	"google.protobuf.UInt64Value": {Kind: KindUInt64, Swift: "UInt64"},
	"google.protobuf.Int32Value":  {Kind: KindInt32, Swift: "Int32"},
	"google.protobuf.UInt32Value": {Kind: KindUInt32, Swift: "UInt32"},
	"google.protobuf.BoolValue":   {Kind: KindBool, Swift: "Bool"},
	"google.protobuf.StringValue": {Kind: KindString, Swift: "String"},
	"google.protobuf.BytesValue":  {Kind: KindBytes, Swift: "Data"},
}

// Namespace is the Swift namespace (a caseless enum) of a proto package:
// its components in UpperCamelCase, after dropping strip: with strip
// "cosync", package cosync.auth.v1 becomes AuthV1.
func Namespace(pkg protoreflect.FullName, strip string) string {
	p := string(pkg)
	if strip != "" {
		p = strings.TrimPrefix(strings.TrimPrefix(p, strip), ".")
	}
	var b strings.Builder
	for _, part := range strings.Split(p, ".") {
		b.WriteString(upperCamel(part))
	}
	return b.String()
}

// NewModel builds the model of the files to generate. Every message a field
// or method names must be in those files or be a well-known type.
func NewModel(files []*protogen.File, strip string) (*Model, error) {
	m := &Model{
		Messages:   map[protoreflect.FullName]*Message{},
		Enums:      map[protoreflect.FullName]*Enum{},
		Namespaces: map[protoreflect.FullName]string{},
	}
	// Declare every type first, so fields can refer to types in any file.
	for _, f := range files {
		if f.Desc.Package() == "" {
			return nil, fmt.Errorf("%s: a package is required (it names the Swift namespace)", f.Desc.Path())
		}
		ns := Namespace(f.Desc.Package(), strip)
		m.Namespaces[f.Desc.Package()] = ns
		file := &File{Proto: f, Namespace: ns}
		for _, e := range f.Enums {
			file.Enums = append(file.Enums, m.declareEnum(e, ns, ""))
		}
		for _, msg := range f.Messages {
			file.Messages = append(file.Messages, m.declareMessage(msg, ns, ""))
		}
		m.Files = append(m.Files, file)
	}
	for _, file := range m.Files {
		for _, msg := range file.Proto.Messages {
			if err := m.defineMessage(msg); err != nil {
				return nil, err
			}
		}
		for _, s := range file.Proto.Services {
			svc, err := m.service(s)
			if err != nil {
				return nil, err
			}
			file.Services = append(file.Services, svc)
		}
	}
	m.markIndirect()
	return m, nil
}

func (m *Model) declareEnum(e *protogen.Enum, ns, parent string) *Enum {
	local := join(parent, string(e.Desc.Name()))
	out := &Enum{FullName: e.Desc.FullName(), LocalName: local, Swift: ns + "." + local, Comments: e.Comments}
	seen := map[int32]bool{}
	for _, v := range e.Values {
		n := int32(v.Desc.Number())
		out.Values = append(out.Values, &EnumValue{
			ProtoName: string(v.Desc.Name()),
			Number:    n,
			Case:      ident(enumCase(string(e.Desc.Name()), string(v.Desc.Name()))),
			Alias:     seen[n],
			Comments:  v.Comments,
		})
		seen[n] = true
	}
	m.Enums[out.FullName] = out
	return out
}

func (m *Model) declareMessage(msg *protogen.Message, ns, parent string) *Message {
	local := join(parent, string(msg.Desc.Name()))
	out := &Message{FullName: msg.Desc.FullName(), LocalName: local, Swift: ns + "." + local,
		Comments: msg.Comments, mapEntry: msg.Desc.IsMapEntry()}
	for _, e := range msg.Enums {
		out.Enums = append(out.Enums, m.declareEnum(e, ns, local))
	}
	for _, n := range msg.Messages {
		nested := m.declareMessage(n, ns, local)
		if !nested.mapEntry {
			out.Messages = append(out.Messages, nested)
		}
	}
	m.Messages[out.FullName] = out
	return out
}

func join(parent, name string) string {
	if parent == "" {
		return name
	}
	return parent + "." + name
}

func (m *Model) defineMessage(msg *protogen.Message) error {
	out := m.Messages[msg.Desc.FullName()]
	for _, n := range msg.Messages {
		if err := m.defineMessage(n); err != nil {
			return err
		}
	}
	taken := map[string]bool{}
	for _, n := range out.Messages {
		taken[strings.TrimPrefix(n.LocalName, out.LocalName+".")] = true
	}
	for _, e := range out.Enums {
		taken[strings.TrimPrefix(e.LocalName, out.LocalName+".")] = true
	}
	oneofs := map[*protogen.Oneof]*Oneof{}
	for _, o := range msg.Oneofs {
		if o.Desc.IsSynthetic() {
			continue
		}
		typeName := upperCamel(string(o.Desc.Name()))
		if taken[typeName] {
			typeName += "Oneof"
		}
		oo := &Oneof{ProtoName: string(o.Desc.Name()), SwiftName: ident(camel(string(o.Desc.Name()))),
			TypeName: typeName, Comments: o.Comments}
		oneofs[o] = oo
		out.Oneofs = append(out.Oneofs, oo)
	}
	for _, f := range msg.Fields {
		field := &Field{
			Desc:      f.Desc,
			ProtoName: string(f.Desc.Name()),
			JSONName:  f.Desc.JSONName(),
			SwiftName: ident(camel(string(f.Desc.Name()))),
			Repeated:  f.Desc.IsList(),
			Comments:  f.Comments,
		}
		var err error
		switch {
		case f.Desc.IsMap():
			var key Type
			if key, err = m.scalarType(f.Desc.MapKey()); err == nil {
				field.MapKey = &key
				field.Type, _, err = m.valueType(f.Desc.MapValue())
			}
		default:
			var wrapper bool
			field.Type, wrapper, err = m.valueType(f.Desc)
			field.Optional = !field.Repeated && (f.Desc.HasOptionalKeyword() || wrapper ||
				(f.Desc.Message() != nil && f.Oneof == nil))
		}
		if err != nil {
			return fmt.Errorf("%s: %w", f.Desc.FullName(), err)
		}
		if f.Oneof != nil && !f.Oneof.Desc.IsSynthetic() {
			field.Oneof = oneofs[f.Oneof]
			field.Oneof.Fields = append(field.Oneof.Fields, field)
			field.Optional = false // presence is the enum's
		}
		out.Fields = append(out.Fields, field)
	}
	return nil
}

// valueType is the type of a singular value; wrapper reports a wrapper message.
func (m *Model) valueType(fd protoreflect.FieldDescriptor) (t Type, wrapper bool, err error) {
	switch fd.Kind() {
	case protoreflect.EnumKind:
		e, ok := m.Enums[fd.Enum().FullName()]
		if !ok {
			return Type{}, false, fmt.Errorf("enum %s is not in the files generated", fd.Enum().FullName())
		}
		return Type{Kind: KindEnum, Swift: e.Swift, Enum: e}, false, nil
	case protoreflect.MessageKind, protoreflect.GroupKind:
		name := fd.Message().FullName()
		if t, ok := wellKnown[name]; ok {
			return t, false, nil
		}
		if t, ok := wrappers[name]; ok {
			return t, true, nil
		}
		msg, ok := m.Messages[name]
		if !ok {
			return Type{}, false, fmt.Errorf("message %s is not in the files generated (and not a supported well-known type)", name)
		}
		return Type{Kind: KindMessage, Swift: msg.Swift, Message: msg}, false, nil
	}
	t, err = m.scalarType(fd)
	return t, false, err
}

func (m *Model) scalarType(fd protoreflect.FieldDescriptor) (Type, error) {
	switch fd.Kind() {
	case protoreflect.StringKind:
		return Type{Kind: KindString, Swift: "String"}, nil
	case protoreflect.BoolKind:
		return Type{Kind: KindBool, Swift: "Bool"}, nil
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		return Type{Kind: KindInt32, Swift: "Int32"}, nil
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		return Type{Kind: KindUInt32, Swift: "UInt32"}, nil
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		return Type{Kind: KindInt64, Swift: "Int64"}, nil
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return Type{Kind: KindUInt64, Swift: "UInt64"}, nil
	case protoreflect.FloatKind:
		return Type{Kind: KindFloat, Swift: "Float"}, nil
	case protoreflect.DoubleKind:
		return Type{Kind: KindDouble, Swift: "Double"}, nil
	case protoreflect.BytesKind:
		return Type{Kind: KindBytes, Swift: "Data"}, nil
	}
	return Type{}, fmt.Errorf("unsupported field kind %v", fd.Kind())
}

func (m *Model) service(s *protogen.Service) (*Service, error) {
	out := &Service{FullName: s.Desc.FullName(), Client: string(s.Desc.Name()) + "Client", Comments: s.Comments}
	for _, meth := range s.Methods {
		if meth.Desc.IsStreamingClient() || meth.Desc.IsStreamingServer() {
			return nil, fmt.Errorf("%s: streaming methods are not supported", meth.Desc.FullName())
		}
		in, ok1 := m.Messages[meth.Desc.Input().FullName()]
		outMsg, ok2 := m.Messages[meth.Desc.Output().FullName()]
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("%s: request and response must be messages of the files generated", meth.Desc.FullName())
		}
		out.Methods = append(out.Methods, &Method{
			Name:      string(meth.Desc.Name()),
			SwiftName: ident(lowerFirst(string(meth.Desc.Name()))),
			Path:      "/" + string(s.Desc.FullName()) + "/" + string(meth.Desc.Name()),
			Input:     in,
			Output:    outMsg,
			Comments:  meth.Comments,
		})
	}
	return out, nil
}

// markIndirect finds singular message fields through which a message can
// reach itself: a Swift struct cannot contain itself inline.
func (m *Model) markIndirect() {
	var reaches func(from, to *Message, seen map[*Message]bool) bool
	reaches = func(from, to *Message, seen map[*Message]bool) bool {
		if from == to {
			return true
		}
		if seen[from] {
			return false
		}
		seen[from] = true
		for _, f := range from.Fields {
			if f.Type.Kind == KindMessage && !f.Repeated && !f.Map() && reaches(f.Type.Message, to, seen) {
				return true
			}
		}
		return false
	}
	for _, msg := range m.Messages {
		for _, f := range msg.Fields {
			if f.Type.Kind == KindMessage && !f.Repeated && !f.Map() && reaches(f.Type.Message, msg, map[*Message]bool{}) {
				f.Indirect = true
				if f.Oneof != nil {
					f.Oneof.Indirect = true
				}
			}
		}
	}
}
