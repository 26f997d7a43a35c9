package store

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/cosync/cosync-auth/internal/identity"
)

// TestDeepCopy: a copy of an app with every exported field set is equal to
// it, and changing everything reachable in the copy leaves the original as
// it was.
func TestDeepCopy(t *testing.T) {
	var a, b identity.App
	n := 0
	fill(reflect.ValueOf(&a).Elem(), &n)
	n = 0
	fill(reflect.ValueOf(&b).Elem(), &n)
	if reflect.DeepEqual(a, identity.App{}) {
		t.Fatal("fill left the app empty")
	}
	c := deepCopy(a)
	if !reflect.DeepEqual(c, a) {
		t.Fatalf("deepCopy(a) = %+v, want %+v", c, a)
	}
	changed := scribble(reflect.ValueOf(&c).Elem())
	if changed < 20 {
		t.Fatalf("scribble changed %d values, want the settings' many", changed)
	}
	if !reflect.DeepEqual(a, b) {
		t.Errorf("changing the copy changed the original: %+v, want %+v", a, b)
	}
}

// fill sets every exported field reachable from v to a value that is not
// its zero, numbering them with *n; slices and maps get two entries.
func fill(v reflect.Value, n *int) {
	*n++
	if v.Type() == reflect.TypeFor[time.Time]() {
		v.Set(reflect.ValueOf(time.Unix(int64(*n), 0).UTC()))
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Field(i).CanSet() {
				fill(v.Field(i), n)
			}
		}
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 2, 2)
		for i := range 2 {
			fill(s.Index(i), n)
		}
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		for range 2 {
			k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
			fill(k, n)
			fill(e, n)
			m.SetMapIndex(k, e)
		}
		v.Set(m)
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		fill(p.Elem(), n)
		v.Set(p)
	case reflect.Interface:
		v.Set(reflect.ValueOf(map[string]any{"k": []any{fmt.Sprint(*n)}}))
	case reflect.String:
		v.SetString(fmt.Sprint("s", *n))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(int64(*n))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(uint64(*n % 200))
	case reflect.Float32, reflect.Float64:
		v.SetFloat(float64(*n))
	default:
		panic(fmt.Sprintf("fill: %s", v.Type()))
	}
}

// scribble changes every basic value reachable from v in place (through
// slices' arrays, map entries, pointers and interfaces) and counts them.
func scribble(v reflect.Value) int {
	switch v.Kind() {
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			v.Set(reflect.ValueOf(time.Time{}))
			return 1
		}
		n := 0
		for i := range v.NumField() {
			if v.Field(i).CanSet() {
				n += scribble(v.Field(i))
			}
		}
		return n
	case reflect.Slice, reflect.Array:
		n := 0
		for i := range v.Len() {
			n += scribble(v.Index(i))
		}
		return n
	case reflect.Map:
		n := 0
		for it := v.MapRange(); it.Next(); {
			e := reflect.New(v.Type().Elem()).Elem()
			e.Set(it.Value()) // shares what the entry refers to
			n += scribble(e)
			v.SetMapIndex(it.Key(), e)
		}
		return n
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return 0
		}
		e := v.Elem()
		if v.Kind() == reflect.Interface && !e.CanSet() {
			c := reflect.New(e.Type()).Elem()
			c.Set(e) // shares what the value refers to
			n := scribble(c)
			return n
		}
		return scribble(e)
	case reflect.String:
		v.SetString("scribbled")
	case reflect.Bool:
		v.SetBool(false)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(-1)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(255)
	case reflect.Float32, reflect.Float64:
		v.SetFloat(-1)
	default:
		return 0
	}
	return 1
}
