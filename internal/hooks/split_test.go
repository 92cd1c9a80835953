package hooks

import (
	"reflect"
	"strings"
	"testing"
)

func TestSplit(t *testing.T) {
	cases := []struct {
		in   string
		want []string
	}{
		{"upload", []string{"upload"}},
		{"  upload  --bucket\tb \n", []string{"upload", "--bucket", "b"}},
		{`rclone copy 'my remote:dir with spaces'`, []string{"rclone", "copy", "my remote:dir with spaces"}},
		{`a "b c" d`, []string{"a", "b c", "d"}},
		{`a "x \"y\" \\ \$ \a"`, []string{"a", `x "y" \ $ \a`}},
		{`a 'it'\''s'`, []string{"a", "it's"}},
		{`a b\ c \"d\"`, []string{"a", "b c", `"d"`}},
		{"a \\\nb", []string{"a", "b"}},           // line continuation
		{"a \"x\\\ny\"", []string{"a", "xy"}},     // continuation inside ""
		{`a "" '' x`, []string{"a", "", "", "x"}}, // empty arguments survive
		{`a $HOME ~ * $(id) ` + "`id`", []string{"a", "$HOME", "~", "*", "$(id)", "`id`"}},
		{`a b;c x|y`, []string{"a", "b;c", "x|y"}}, // only whole operator words are refused
		{`a '|' "2>" \;`, []string{"a", "|", "2>", ";"}},
		{`sh -c 'printf %s "$1" > out' sh`, []string{"sh", "-c", `printf %s "$1" > out`, "sh"}},
		{"caf\u00e9 na\u00efve", []string{"caf\u00e9", "na\u00efve"}},
	}
	for _, c := range cases {
		got, err := Split(c.in)
		if err != nil {
			t.Errorf("Split(%q): %v", c.in, err)
			continue
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("Split(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestSplitErrors(t *testing.T) {
	cases := []struct{ in, want string }{
		{"", "command is empty"},
		{"   \t", "command is empty"},
		{`upload 'half`, "unterminated single quote"},
		{`upload "half`, "unterminated double quote"},
		{`upload "a\"`, "unterminated double quote"},
		{`upload \`, "lone backslash"},
		{`upload | tee log`, `"|" is a shell operator`},
		{`upload ; rm x`, `";" is a shell operator`},
		{`upload && echo ok`, `"&&" is a shell operator`},
		{`upload >log`, `">log" is a shell operator`},
		{`upload 2>&1`, `"2>&1" is a shell operator`},
		{`upload &`, `"&" is a shell operator`},
	}
	for _, c := range cases {
		got, err := Split(c.in)
		if err == nil {
			t.Errorf("Split(%q) = %q, want an error with %q", c.in, got, c.want)
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("Split(%q) error %q, want it to contain %q", c.in, err, c.want)
		}
		if strings.Contains(err.Error(), "\n") {
			t.Errorf("Split(%q) error spans lines: %q", c.in, err)
		}
	}
}
