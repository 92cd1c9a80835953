package docs

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// The man pages are written here in roff directly, not through cobra/doc:
// that goes through Markdown (go-md2man, blackfriday), whose package
// initialisation compiled regular expressions and built tables in every
// livecap process (0.5 ms and 760 allocations before main), for a command
// almost no run uses. The layout is cobra/doc's: NAME, SYNOPSIS,
// DESCRIPTION, OPTIONS, OPTIONS INHERITED FROM PARENT COMMANDS, EXAMPLE,
// SEE ALSO.

// manPage describes the pages' common header.
type manPage struct {
	title, section, date, source, manual string
}

// manTree writes the page of cmd and of every visible descendant into dir:
// livecap.1, livecap-stream.1, ...
func manTree(cmd *cobra.Command, h manPage, dir string) error {
	for _, c := range cmd.Commands() {
		if !c.IsAvailableCommand() || c.IsAdditionalHelpTopicCommand() {
			continue
		}
		if err := manTree(c, h, dir); err != nil {
			return err
		}
	}
	name := strings.ReplaceAll(cmd.CommandPath(), " ", "-")
	f, err := os.Create(filepath.Join(dir, name+"."+h.section))
	if err != nil {
		return err
	}
	werr := writeMan(f, cmd, h)
	if err := f.Close(); werr == nil {
		werr = err
	}
	return werr
}

// manDate is SOURCE_DATE_EPOCH when set (reproducible releases), else now,
// as man pages date themselves ("Jan 2026").
func manDate() (string, error) {
	t := time.Now()
	if e := os.Getenv("SOURCE_DATE_EPOCH"); e != "" {
		sec, err := strconv.ParseInt(e, 10, 64)
		if err != nil {
			return "", fmt.Errorf("invalid SOURCE_DATE_EPOCH %q: %w", e, err)
		}
		t = time.Unix(sec, 0).UTC()
	}
	return t.Format("Jan 2006"), nil
}

func writeMan(w io.Writer, cmd *cobra.Command, h manPage) error {
	cmd.InitDefaultHelpCmd()
	cmd.InitDefaultHelpFlag()
	name := strings.ReplaceAll(cmd.CommandPath(), " ", "-")
	var b strings.Builder
	fmt.Fprintf(&b, ".nh\n.TH %q %q %q %q %q\n", h.title, h.section, h.date, h.source, h.manual)
	fmt.Fprintf(&b, ".SH NAME\n%s - %s\n", name, roffText(cmd.Short))
	fmt.Fprintf(&b, ".SH SYNOPSIS\n\\fB%s\\fP\n", roffText(cmd.UseLine()))
	desc := cmd.Long
	if desc == "" {
		desc = cmd.Short
	}
	b.WriteString(".SH DESCRIPTION\n")
	writeRoffBody(&b, desc)
	if fs := cmd.NonInheritedFlags(); fs.HasAvailableFlags() {
		b.WriteString(".SH OPTIONS\n")
		writeRoffFlags(&b, fs)
	}
	if fs := cmd.InheritedFlags(); fs.HasAvailableFlags() {
		b.WriteString(".SH OPTIONS INHERITED FROM PARENT COMMANDS\n")
		writeRoffFlags(&b, fs)
	}
	if cmd.Example != "" {
		b.WriteString(".SH EXAMPLE\n.PP\n.RS\n.nf\n")
		for _, l := range strings.Split(strings.TrimRight(cmd.Example, "\n"), "\n") {
			b.WriteString(roffLine(l) + "\n")
		}
		b.WriteString(".fi\n.RE\n")
	}
	var also []string
	if cmd.HasParent() {
		also = append(also, strings.ReplaceAll(cmd.Parent().CommandPath(), " ", "-"))
	}
	children := append([]*cobra.Command(nil), cmd.Commands()...)
	sort.Slice(children, func(i, j int) bool { return children[i].Name() < children[j].Name() })
	for _, c := range children {
		if c.IsAvailableCommand() && !c.IsAdditionalHelpTopicCommand() {
			also = append(also, name+"-"+c.Name())
		}
	}
	if len(also) > 0 {
		b.WriteString(".SH SEE ALSO\n.PP\n")
		for i, a := range also {
			sep := ","
			if i == len(also)-1 {
				sep = ""
			}
			fmt.Fprintf(&b, "\\fB%s(%s)\\fP%s\n", a, h.section, sep)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeRoffFlags lists flags as cobra/doc does: -s, --name=default, then
// the usage indented.
func writeRoffFlags(b *strings.Builder, fs *pflag.FlagSet) {
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Deprecated != "" || f.Hidden {
			return
		}
		b.WriteString(".TP\n")
		if f.Shorthand != "" && f.ShorthandDeprecated == "" {
			fmt.Fprintf(b, "\\fB\\-%s\\fP, ", f.Shorthand)
		}
		fmt.Fprintf(b, "\\fB\\-\\-%s\\fP", roffText(f.Name))
		def := f.DefValue
		if f.Value.Type() == "string" {
			def = strconv.Quote(def)
		}
		if f.NoOptDefVal != "" {
			fmt.Fprintf(b, "[=%s]\n", roffText(def))
		} else {
			fmt.Fprintf(b, "=%s\n", roffText(def))
		}
		b.WriteString(roffLine(f.Usage) + "\n")
	})
}

// writeRoffBody turns help text into roff: blank lines separate
// paragraphs, indented lines keep their layout (tables, commands), a line
// "# TITLE" starts a section, and "term" followed by ": definition" is a
// tagged paragraph (the small Markdown that help texts use).
func writeRoffBody(b *strings.Builder, text string) {
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	b.WriteString(".PP\n")
	literal := false
	setLiteral := func(on bool) {
		if on != literal {
			if on {
				b.WriteString(".nf\n")
			} else {
				b.WriteString(".fi\n")
			}
			literal = on
		}
	}
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		switch {
		case strings.TrimSpace(l) == "":
			setLiteral(false)
			b.WriteString(".PP\n")
		case strings.HasPrefix(l, "# "):
			setLiteral(false)
			b.WriteString(".SH " + roffText(strings.ToUpper(strings.TrimSpace(l[2:]))) + "\n")
		case i+1 < len(lines) && strings.HasPrefix(lines[i+1], ": "):
			setLiteral(false)
			b.WriteString(".TP\n" + roffLine(l) + "\n" + roffLine(lines[i+1][2:]) + "\n")
			i++
		case l[0] == ' ' || l[0] == '\t':
			setLiteral(true)
			b.WriteString(roffLine(l) + "\n")
		default:
			setLiteral(false)
			b.WriteString(roffLine(l) + "\n")
		}
	}
	setLiteral(false)
}

// roffText escapes the backslash, roff's escape character.
func roffText(s string) string { return strings.ReplaceAll(s, `\`, `\e`) }

// roffLine escapes a line of text: also a leading '.' or '\”, which roff
// would read as a request.
func roffLine(s string) string {
	s = roffText(s)
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "'") {
		s = `\&` + s
	}
	return s
}
