// Package config reads livecap's configuration file and applies it, with
// LIVECAP_* environment variables, to a command's flags: every flag of
// every command is a setting, with no code per flag. Precedence: a flag on
// the command line, then its environment variable, then the chosen
// profile, then the file's defaults, then the flag's own default.
//
// The file is YAML: flag names (without the dashes) as keys, at the top
// (any command that has the flag), in a section named after a command
// (that command only), and in named profiles that hold the same two kinds
// of keys:
//
//	record: ~/Movies/livecap        # stream, and ctl (finds the session)
//	stream:
//	  bitrate: 6M
//	  rtmp: [yt=rtmp://a.rtmp.youtube.com/live2/KEY]
//	profiles:
//	  lecture:
//	    format: mov
//	    segment: 30m
//	    stream: {keyint: 2s}
//
// A list sets a repeatable flag (--rtmp) several times; in an environment
// variable the values are separated by whitespace.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/pflag"
	"gopkg.in/yaml.v3"
)

// EnvPrefix starts every setting's environment variable: --log-level is
// LIVECAP_LOG_LEVEL.
const EnvPrefix = "LIVECAP_"

// FileName is the file's name in DefaultDir.
const FileName = "config.yaml"

// Skip lists the flags that are never settings: they choose the settings,
// or are not settings at all.
var Skip = map[string]bool{"config": true, "profile": true, "help": true, "version": true}

// EnvName is the environment variable of flag name.
func EnvName(flag string) string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// DefaultPath is the file livecap reads without --config:
// os.UserConfigDir()/livecap/config.yaml ($XDG_CONFIG_HOME or ~/.config on
// Linux, ~/Library/Application Support on macOS).
func DefaultPath() string {
	d, err := os.UserConfigDir()
	if err != nil {
		return ""
	}
	return filepath.Join(d, "livecap", FileName)
}

// Settings is one level of the file: flag name → values (one value for a
// plain flag, one or more for a repeatable flag).
type Settings map[string][]string

// Layer is a set of flat settings and per-command sections.
type Layer struct {
	Flat     Settings
	Commands map[string]Settings
}

// File is a parsed configuration file.
type File struct {
	Path     string
	Base     Layer
	Profiles map[string]Layer
}

// Error is a problem with the file: one line naming the file, where in it,
// the value and what is allowed.
type Error struct {
	Path string
	Msg  string
}

func (e *Error) Error() string { return fmt.Sprintf("config %s: %s", e.Path, e.Msg) }

// Known tells whether a command has a flag; Commands lists the command
// names (sections). Load rejects keys no command has.
type Known struct {
	Commands map[string]map[string]bool // command name → its flags
}

func (k Known) anyHas(flag string) bool {
	for _, fl := range k.Commands {
		if fl[flag] {
			return true
		}
	}
	return false
}

// Load reads the file at path. A missing file is an error when explicit;
// otherwise (the default path) it is no file: nil, nil.
func Load(path string, explicit bool, known Known) (*File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) && !explicit {
			return nil, nil
		}
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, &Error{Path: path, Msg: fmt.Sprintf("cannot read it: %v", err)}
	}
	return Parse(path, b, known)
}

// Parse parses the file's content.
func Parse(path string, b []byte, known Known) (*File, error) {
	f := &File{Path: path, Profiles: map[string]Layer{}}
	if len(bytes.TrimSpace(b)) == 0 {
		return f, nil
	}
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err != nil {
		return nil, &Error{Path: path, Msg: "not valid YAML: " + oneLine(err.Error())}
	}
	if len(root.Content) == 0 {
		return f, nil
	}
	doc := root.Content[0]
	if doc.Kind != yaml.MappingNode {
		return nil, &Error{Path: path, Msg: "must be a mapping of settings (such as \"bitrate: 6M\")"}
	}
	var profiles *yaml.Node
	base, err := parseLayer(path, "", doc, known, func(key string, v *yaml.Node) (bool, error) {
		if key != "profiles" {
			return false, nil
		}
		profiles = v
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	f.Base = base
	if profiles != nil {
		if profiles.Kind != yaml.MappingNode {
			return nil, &Error{Path: path, Msg: fmt.Sprintf("line %d: profiles must be a mapping of profile names to settings", profiles.Line)}
		}
		for i := 0; i+1 < len(profiles.Content); i += 2 {
			name, v := profiles.Content[i].Value, profiles.Content[i+1]
			if err := CheckProfileName(name); err != nil {
				return nil, &Error{Path: path, Msg: fmt.Sprintf("line %d: %v", profiles.Content[i].Line, err)}
			}
			if _, dup := f.Profiles[name]; dup {
				return nil, &Error{Path: path, Msg: fmt.Sprintf("line %d: profile %q is defined twice", profiles.Content[i].Line, name)}
			}
			if v.Kind != yaml.MappingNode {
				return nil, &Error{Path: path, Msg: fmt.Sprintf("line %d: profile %q must be a mapping of settings", v.Line, name)}
			}
			l, err := parseLayer(path, fmt.Sprintf("profile %q: ", name), v, known, nil)
			if err != nil {
				return nil, err
			}
			f.Profiles[name] = l
		}
	}
	return f, nil
}

// CheckProfileName: letters, digits, '-', '_' and '.'.
func CheckProfileName(name string) error {
	ok := name != ""
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			ok = false
		}
	}
	if !ok {
		return fmt.Errorf("invalid profile name %q: must be letters, digits, '-', '_' or '.'", name)
	}
	return nil
}

func parseLayer(path, where string, m *yaml.Node, known Known, special func(string, *yaml.Node) (bool, error)) (Layer, error) {
	l := Layer{Flat: Settings{}, Commands: map[string]Settings{}}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		key := k.Value
		if special != nil {
			if done, err := special(key, v); err != nil || done {
				if err != nil {
					return l, err
				}
				continue
			}
		}
		if cmdFlags, isCmd := known.Commands[key]; isCmd && v.Kind == yaml.MappingNode {
			if _, dup := l.Commands[key]; dup {
				return l, &Error{Path: path, Msg: fmt.Sprintf("line %d: %ssection %q appears twice", k.Line, where, key)}
			}
			s := Settings{}
			for j := 0; j+1 < len(v.Content); j += 2 {
				ck, cv := v.Content[j], v.Content[j+1]
				if Skip[ck.Value] || !cmdFlags[ck.Value] {
					return l, &Error{Path: path, Msg: fmt.Sprintf("line %d: %sunknown setting %q for livecap %s: must be one of its flags (livecap %s --help)", ck.Line, where, ck.Value, key, key)}
				}
				vals, err := values(path, where, ck.Value, cv)
				if err != nil {
					return l, err
				}
				if _, dup := s[ck.Value]; dup {
					return l, &Error{Path: path, Msg: fmt.Sprintf("line %d: %ssetting %q appears twice", ck.Line, where, ck.Value)}
				}
				s[ck.Value] = vals
			}
			l.Commands[key] = s
			continue
		}
		if Skip[key] || !known.anyHas(key) {
			hint := ""
			if key == "profile" {
				hint = " (choose a profile with --profile NAME or LIVECAP_PROFILE)"
			}
			return l, &Error{Path: path, Msg: fmt.Sprintf("line %d: %sunknown setting %q: must be the name of a flag (such as bitrate for --bitrate), a command section or profiles%s", k.Line, where, key, hint)}
		}
		vals, err := values(path, where, key, v)
		if err != nil {
			return l, err
		}
		if _, dup := l.Flat[key]; dup {
			return l, &Error{Path: path, Msg: fmt.Sprintf("line %d: %ssetting %q appears twice", k.Line, where, key)}
		}
		l.Flat[key] = vals
	}
	return l, nil
}

func values(path, where, key string, v *yaml.Node) ([]string, error) {
	switch v.Kind {
	case yaml.ScalarNode:
		if v.Tag == "!!null" {
			return nil, &Error{Path: path, Msg: fmt.Sprintf("line %d: %s%s has no value", v.Line, where, key)}
		}
		return []string{v.Value}, nil
	case yaml.SequenceNode:
		var out []string
		for _, e := range v.Content {
			if e.Kind != yaml.ScalarNode {
				return nil, &Error{Path: path, Msg: fmt.Sprintf("line %d: %s%s: each value must be a plain value", e.Line, where, key)}
			}
			out = append(out, e.Value)
		}
		return out, nil
	}
	return nil, &Error{Path: path, Msg: fmt.Sprintf("line %d: %s%s must be a value or a list of values", v.Line, where, key)}
}

// ProfileNames lists the profiles, sorted.
func (f *File) ProfileNames() []string {
	var n []string
	for k := range f.Profiles {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}

// Origin says where a flag's value came from, for error messages.
type Origin struct {
	Env     string // the variable, when from the environment
	Path    string // the file, when from it
	Profile string
}

func (o Origin) String() string {
	switch {
	case o.Env != "":
		return "from " + o.Env
	case o.Profile != "":
		return fmt.Sprintf("from profile %q in %s", o.Profile, o.Path)
	case o.Path != "":
		return "from " + o.Path
	}
	return ""
}

// Apply sets every flag of fs that the command line left unset from the
// environment (getenv), then the profile, then the file (f may be nil:
// the environment alone). command names the running command (its
// section). It returns where each value it set came from. A profile the
// file does not have is an error.
func Apply(fs *pflag.FlagSet, command string, f *File, profile string, getenv func(string) (string, bool)) (map[string]Origin, error) {
	type layer struct {
		s      Settings
		origin Origin
	}
	var layers []layer
	if f != nil {
		if profile != "" {
			p, ok := f.Profiles[profile]
			if !ok {
				have := "it has none"
				if names := f.ProfileNames(); len(names) > 0 {
					have = "must be one of " + strings.Join(names, ", ")
				}
				return nil, &Error{Path: f.Path, Msg: fmt.Sprintf("no profile %q: %s", profile, have)}
			}
			o := Origin{Path: f.Path, Profile: profile}
			layers = append(layers, layer{p.Commands[command], o}, layer{p.Flat, o})
		}
		o := Origin{Path: f.Path}
		layers = append(layers, layer{f.Base.Commands[command], o}, layer{f.Base.Flat, o})
	} else if profile != "" {
		return nil, fmt.Errorf("invalid --profile %q: there is no configuration file (%s)", profile, DefaultPath())
	}
	origins := map[string]Origin{}
	var err error
	fs.VisitAll(func(fl *pflag.Flag) {
		if err != nil || fl.Changed || Skip[fl.Name] {
			return
		}
		env := EnvName(fl.Name)
		if v, ok := getenv(env); ok {
			vals := []string{v}
			if isList(fl) {
				vals = strings.Fields(v)
			}
			o := Origin{Env: env}
			err = set(fs, fl, vals, o)
			origins[fl.Name] = o
			return
		}
		for _, l := range layers {
			if vals, ok := l.s[fl.Name]; ok {
				err = set(fs, fl, vals, l.origin)
				origins[fl.Name] = l.origin
				return
			}
		}
	})
	return origins, err
}

func isList(fl *pflag.Flag) bool {
	t := fl.Value.Type()
	return strings.HasSuffix(t, "Slice") || strings.HasSuffix(t, "Array")
}

func set(fs *pflag.FlagSet, fl *pflag.Flag, vals []string, o Origin) error {
	if len(vals) > 1 && !isList(fl) {
		return fmt.Errorf("invalid --%s %s: one value, not a list of %d", fl.Name, o, len(vals))
	}
	for _, v := range vals {
		if err := fs.Set(fl.Name, v); err != nil {
			return fmt.Errorf("invalid --%s %q %s: must be %s", fl.Name, v, o, kind(fl))
		}
	}
	return nil
}

func kind(fl *pflag.Flag) string {
	switch fl.Value.Type() {
	case "bool":
		return "true or false"
	case "int", "int64", "int32", "uint", "uint64":
		return "a whole number"
	case "float64", "float32":
		return "a number"
	case "duration":
		return "a duration such as 90s or 1h30m"
	case "rate":
		return "a frame rate such as 30, 29.97 or 30000/1001"
	}
	return "a " + fl.Value.Type()
}

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\n", "; ")
	return strings.TrimPrefix(s, "yaml: ")
}
