package hooks

import (
	"errors"
	"fmt"
	"strings"
)

// Split breaks a command line into a program and its arguments the way a
// POSIX shell tokenizes words, and does nothing else: there is no shell,
// so no variable, command, tilde or glob expansion and no redirection.
//
//   - Blanks (space, tab, newline) separate words.
//   - '…' keeps everything literally up to the next single quote.
//   - "…" keeps everything literally except that a backslash escapes
//     " \ $ ` and a newline (the POSIX rule), so `"a \"b\""` is `a "b"`.
//   - Outside quotes a backslash makes the next character literal;
//     backslash-newline is a line continuation and vanishes.
//   - Empty quotes (double or single) make an empty argument.
//
// "$HOME", "*" and "~" reach the program as written. An unquoted word that
// starts with a shell operator (| & ; < > or a redirection such as 2>) is
// refused, because the user almost certainly expected a shell to act on it;
// quote it to pass it literally, or run a shell explicitly:
//
//	sh -c 'gzip -c "$1" > "$1.gz"' sh
//
// (the segment path is then "$1" inside the script, and is never parsed).
//
// Errors never repeat the command: it may hold an upload token.
func Split(cmd string) ([]string, error) {
	var (
		args   []string
		cur    strings.Builder
		inWord bool // cur holds a word, possibly empty ("")
		quoted bool // some part of the current word was quoted or escaped
	)
	flush := func() error {
		if !inWord {
			return nil
		}
		w := cur.String()
		if !quoted && isOperator(w) {
			return fmt.Errorf("on-segment command: %q is a shell operator, but the command runs without a shell; quote it to pass it literally, or run a shell explicitly: sh -c 'SCRIPT \"$1\"' sh", w)
		}
		args = append(args, w)
		cur.Reset()
		inWord, quoted = false, false
		return nil
	}

	for i := 0; i < len(cmd); i++ {
		c := cmd[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n':
			if err := flush(); err != nil {
				return nil, err
			}
		case c == '\\':
			if i+1 >= len(cmd) {
				return nil, errors.New("on-segment command ends with a lone backslash; escape it as \\\\ or quote it")
			}
			i++
			if cmd[i] == '\n' { // line continuation
				continue
			}
			inWord, quoted = true, true
			cur.WriteByte(cmd[i])
		case c == '\'':
			end := strings.IndexByte(cmd[i+1:], '\'')
			if end < 0 {
				return nil, fmt.Errorf("on-segment command: unterminated single quote at byte %d; close it with '", i)
			}
			cur.WriteString(cmd[i+1 : i+1+end])
			inWord, quoted = true, true
			i += end + 1
		case c == '"':
			start := i
			inWord, quoted = true, true
			closed := false
			for i++; i < len(cmd); i++ {
				d := cmd[i]
				if d == '"' {
					closed = true
					break
				}
				if d == '\\' && i+1 < len(cmd) {
					switch n := cmd[i+1]; n {
					case '"', '\\', '$', '`':
						cur.WriteByte(n)
						i++
						continue
					case '\n':
						i++
						continue
					}
				}
				cur.WriteByte(d)
			}
			if !closed {
				return nil, fmt.Errorf("on-segment command: unterminated double quote at byte %d; close it with \"", start)
			}
		default:
			inWord = true
			cur.WriteByte(c)
		}
	}
	if err := flush(); err != nil {
		return nil, err
	}
	if len(args) == 0 {
		return nil, errors.New("on-segment command is empty: give a program to run, for example --on-segment '/usr/local/bin/upload --bucket b'")
	}
	return args, nil
}

// isOperator reports whether an unquoted word would be a control operator
// or a redirection to a shell: it starts with | & ; < > or is digits
// followed by < or > (2>, 2>&1, 1>>log).
func isOperator(w string) bool {
	if w == "" {
		return false
	}
	switch w[0] {
	case '|', '&', ';', '<', '>':
		return true
	}
	i := 0
	for i < len(w) && w[i] >= '0' && w[i] <= '9' {
		i++
	}
	return i > 0 && i < len(w) && (w[i] == '<' || w[i] == '>')
}
