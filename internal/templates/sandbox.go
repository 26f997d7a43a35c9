package templates

import (
	"context"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"reflect"
	"strconv"
	"strings"
	"text/template"
	"text/template/parse"
	"time"
)

// A template is code the developer writes and the server runs on every
// signup mail, so it runs in a sandbox. text/template cannot be interrupted
// (a goroutine cannot be killed from outside), so the sandbox does not try to
// stop a runaway render: it makes every step of a render small and bounded,
// and checks the deadline and the budgets between steps.
//
//   - No loops and no recursion: {{range}}, {{template}} and {{block}} are
//     refused when parsed, so a render takes at most one step per node of
//     its (size-capped) source.
//   - Only allowlisted functions. The ones that build values (print, printf,
//     println, html, js, urlquery) are replaced by versions that charge what
//     they build to a per-render budget and refuse a call whose arguments
//     alone would overrun it; printf refuses widths and precisions over
//     maxWidth and the argument tricks (`*`, `%[n]`) that repeat an argument.
//     So `{{$a := printf "%01000000d" 0}}` fails at once, and doubling a
//     value with `{{$a = print $a $a}}` fails after a few steps instead of
//     growing until the process dies.
//   - The writer fails as soon as a part's output passes maxOutput, which
//     stops execution at that write.
//   - Every write and every function call checks the deadline
//     (renderTimeout) and the caller's context. Since no step can take
//     long, the render stops soon after either runs out.
//
// What a render can allocate is therefore bounded by the source size, the
// value budget times a small constant (printf's and the escapers' expansion),
// and the output caps.
const (
	maxSource     = 64 << 10 // a part's source, as the Admin API allows
	maxOutput     = 1 << 20  // a part's rendered output
	maxBuilt      = 256 << 10
	maxWidth      = 64 // printf width and precision
	renderTimeout = 2 * time.Second
)

var (
	errTooLarge = errors.New("rendered output larger than 1 MiB")
	errTooSlow  = errors.New("rendering took longer than 2s")
	errBudget   = fmt.Errorf("the template builds more than %d KiB of values", maxBuilt>>10)
)

// allowedFuncs are the functions a template may call. The builtins not
// listed (call) are refused; those marked true are replaced by sandboxed
// versions, the others build nothing new and run as they are.
var allowedFuncs = map[string]bool{
	"and": false, "or": false, "not": false,
	"eq": false, "ne": false, "lt": false, "le": false, "gt": false, "ge": false,
	"len": false, "index": false, "slice": false,
	"print": true, "printf": true, "println": true,
	"html": true, "js": true, "urlquery": true,
}

// sandbox is the state of one Render: its deadline and what its functions
// have built so far. It is used by one goroutine.
type sandbox struct {
	ctx   context.Context
	built int
}

// step reports whether the render may go on.
func (s *sandbox) step() error {
	if s.ctx.Err() != nil {
		if errors.Is(context.Cause(s.ctx), errTooSlow) {
			return errTooSlow
		}
		return s.ctx.Err()
	}
	return nil
}

// charge accounts for n more bytes built by a function.
func (s *sandbox) charge(n int) error {
	if n > maxBuilt-s.built {
		return errBudget
	}
	s.built += n
	return nil
}

func (s *sandbox) funcs() map[string]any {
	return map[string]any{
		"print":    s.build(fmt.Sprint),
		"println":  s.build(fmt.Sprintln),
		"printf":   s.printf,
		"html":     s.build(template.HTMLEscaper),
		"js":       s.build(template.JSEscaper),
		"urlquery": s.build(template.URLQueryEscaper),
	}
}

// build wraps a function that turns its arguments into one string.
func (s *sandbox) build(f func(...any) string) func(...any) (string, error) {
	return func(args ...any) (string, error) {
		if err := s.before(0, args); err != nil {
			return "", err
		}
		out := f(args...)
		return out, s.charge(len(out))
	}
}

func (s *sandbox) printf(format string, args ...any) (string, error) {
	if err := checkFormat(format); err != nil {
		return "", err
	}
	if err := s.before(len(format), args); err != nil {
		return "", err
	}
	out := fmt.Sprintf(format, args...)
	return out, s.charge(len(out))
}

// before checks the deadline and refuses a call whose arguments could make a
// result over the remaining budget, before any of it is built. An argument
// is costed at what the widest formatting makes of it (%q and the escapers
// write at most about six bytes per input byte; a number at most a few
// hundred).
func (s *sandbox) before(fixed int, args []any) error {
	if err := s.step(); err != nil {
		return err
	}
	n := fixed
	for _, a := range args {
		n += argCost(a)
	}
	if n > maxBuilt-s.built {
		return errBudget
	}
	return nil
}

func argCost(a any) int {
	const perByte, other = 6, 512
	switch a := a.(type) {
	case string:
		return perByte*len(a) + maxWidth
	case Vars:
		return perByte*(len(a.AppName)+len(a.Handle)+len(a.Code)+len(a.Link)+len(a.ExpiresIn)) + other
	default:
		return other + maxWidth
	}
}

// checkFormat refuses printf formats that could build a large value from a
// small template: a width or precision over maxWidth, `*` (a width taken
// from an argument) and `%[n]` (which reuses one argument many times).
func checkFormat(format string) error {
	for i := 0; i < len(format); i++ {
		if format[i] != '%' {
			continue
		}
		i++
		for i < len(format) && strings.IndexByte("+-# 0", format[i]) >= 0 {
			i++
		}
		for _, what := range []string{"width", "precision"} {
			if what == "precision" {
				if i >= len(format) || format[i] != '.' {
					break
				}
				i++
			}
			j := i
			for j < len(format) && format[j] >= '0' && format[j] <= '9' {
				j++
			}
			if j > i {
				if n, err := strconv.Atoi(format[i:j]); err != nil || n > maxWidth {
					return fmt.Errorf("printf %s %s is over %d", what, format[i:j], maxWidth)
				}
			}
			i = j
		}
		if i < len(format) && (format[i] == '*' || format[i] == '[') {
			return errors.New("printf argument indexes and * widths are not supported")
		}
	}
	return nil
}

// limitWriter collects one part's output up to maxOutput and fails past it
// or when the render's time is up, which stops the template's execution.
type limitWriter struct {
	strings.Builder
	s *sandbox
}

func (w *limitWriter) Write(p []byte) (int, error) {
	if err := w.s.step(); err != nil {
		return 0, err
	}
	if w.Len()+len(p) > maxOutput {
		return 0, errTooLarge
	}
	return w.Builder.Write(p)
}

func (s *sandbox) renderText(name, src string, v Vars) (string, error) {
	if src == "" {
		return "", nil
	}
	if len(src) > maxSource {
		return "", fmt.Errorf("longer than %d KiB", maxSource>>10)
	}
	t, err := template.New(name).Option("missingkey=error").Funcs(s.funcs()).Parse(src)
	if err != nil {
		return "", err
	}
	for _, tt := range t.Templates() {
		if err := allowed(tt.Tree); err != nil {
			return "", err
		}
	}
	w := limitWriter{s: s}
	if err := t.Execute(&w, v); err != nil {
		return "", err
	}
	return w.String(), nil
}

func (s *sandbox) renderHTML(name, src string, v Vars) (string, error) {
	if src == "" {
		return "", nil
	}
	if len(src) > maxSource {
		return "", fmt.Errorf("longer than %d KiB", maxSource>>10)
	}
	t, err := htmltemplate.New(name).Option("missingkey=error").Funcs(s.funcs()).Parse(src)
	if err != nil {
		return "", err
	}
	for _, tt := range t.Templates() {
		if err := allowed(tt.Tree); err != nil {
			return "", err
		}
	}
	w := limitWriter{s: s}
	if err := t.Execute(&w, v); err != nil {
		return "", err
	}
	return w.String(), nil
}

// allowed rejects the actions that can repeat work, {{range}} (over an
// integer it loops) and {{template}} or {{block}} (which can recurse),
// calls of functions not in allowedFuncs, and fields Vars does not have —
// in every branch, so a field in a branch the sample values never take
// cannot fail a send later. It runs before the html/template escaper adds
// its own functions.
func allowed(tree *parse.Tree) error {
	if tree == nil || tree.Root == nil {
		return nil
	}
	// dotIsVars is false inside {{with}}, where dot is one of Vars' strings,
	// which has no fields.
	dotIsVars := true
	var walk func(parse.Node) error
	walkAll := func(ns ...parse.Node) error {
		for _, n := range ns {
			if err := walk(n); err != nil {
				return err
			}
		}
		return nil
	}
	walk = func(n parse.Node) error {
		switch n := n.(type) {
		case *parse.ListNode:
			if n == nil {
				return nil
			}
			return walkAll(n.Nodes...)
		case *parse.ActionNode:
			return walk(n.Pipe)
		case *parse.PipeNode:
			if n == nil {
				return nil
			}
			for _, c := range n.Cmds {
				if err := walk(c); err != nil {
					return err
				}
			}
		case *parse.CommandNode:
			return walkAll(n.Args...)
		case *parse.ChainNode:
			if len(n.Field) > 0 {
				return fmt.Errorf("the values have no fields (%s)", n)
			}
			return walk(n.Node)
		case *parse.FieldNode:
			if !dotIsVars {
				return fmt.Errorf("inside {{with}}, dot is a value with no fields (%s)", n)
			}
			return varsField(n.Ident)
		case *parse.VariableNode:
			if len(n.Ident) > 1 {
				if n.Ident[0] != "$" {
					return fmt.Errorf("the values have no fields (%s)", n)
				}
				return varsField(n.Ident[1:])
			}
		case *parse.IdentifierNode:
			if _, ok := allowedFuncs[n.Ident]; !ok {
				return fmt.Errorf("function %q is not supported", n.Ident)
			}
		case *parse.IfNode:
			return walkBranch(walk, &n.BranchNode)
		case *parse.WithNode:
			if err := walk(n.Pipe); err != nil {
				return err
			}
			outer := dotIsVars
			dotIsVars = false
			err := walk(n.List)
			dotIsVars = outer
			if err != nil {
				return err
			}
			if n.ElseList != nil {
				return walk(n.ElseList)
			}
		case *parse.RangeNode:
			return errors.New("{{range}} is not supported")
		case *parse.TemplateNode:
			return errors.New("{{template}} and {{block}} are not supported")
		}
		return nil
	}
	return walk(tree.Root)
}

// varsFields are the fields a template may name: those of Vars.
var varsFields = func() map[string]bool {
	m := map[string]bool{}
	t := reflect.TypeFor[Vars]()
	for i := range t.NumField() {
		m[t.Field(i).Name] = true
	}
	return m
}()

// varsField accepts a field path of Vars: one of its fields, nothing below.
func varsField(path []string) error {
	if len(path) == 0 || !varsFields[path[0]] {
		return fmt.Errorf("unknown value .%s (the values are .AppName, .Handle, .Code, .Link and .ExpiresIn)", strings.Join(path, "."))
	}
	if len(path) > 1 {
		return fmt.Errorf(".%s has no field %s", path[0], path[1])
	}
	return nil
}

func walkBranch(walk func(parse.Node) error, b *parse.BranchNode) error {
	if err := walk(b.Pipe); err != nil {
		return err
	}
	if err := walk(b.List); err != nil {
		return err
	}
	if b.ElseList != nil {
		return walk(b.ElseList)
	}
	return nil
}
