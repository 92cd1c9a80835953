module github.com/livecap/livecap

go 1.26.0

require (
	github.com/Eyevinn/mp4ff v0.56.0
	github.com/bluenviron/mediacommon/v2 v2.9.4
	github.com/creack/pty v1.1.24
	github.com/haivision/srtgo v0.0.0-20260729205614-11f07ff45f44
	github.com/mattn/go-isatty v0.0.19
	github.com/rs/zerolog v1.33.0
	github.com/spf13/cobra v1.8.1
	github.com/spf13/pflag v1.0.5
	golang.org/x/sys v0.12.0
	gopkg.in/yaml.v3 v3.0.1
)

require (
	github.com/inconshreveable/mousetrap v1.1.0 // indirect
	github.com/mattn/go-colorable v0.1.13 // indirect
	github.com/mattn/go-pointer v0.0.1 // indirect
)
