# Homebrew formula for livecap, built from source. It lives in the tap
# github.com/livecap/homebrew-tap as Formula/livecap.rb, so a Mac user runs
#
#   brew install livecap/tap/livecap
#
# At each release, url and sha256 are updated to the new tag's source
# archive (sha256: `curl -sL URL | shasum -a 256`). This formula is the
# only Homebrew package (.goreleaser.yaml has no brews/casks).
class Livecap < Formula
  desc "Capture camera and mic, encode once, record segments and stream live"
  homepage "https://github.com/livecap/livecap"
  url "https://github.com/livecap/livecap/archive/refs/tags/v0.1.0.tar.gz"
  sha256 "0000000000000000000000000000000000000000000000000000000000000000"
  head "https://github.com/livecap/livecap.git", branch: "main"

  depends_on "go" => :build
  depends_on "pkg-config" => :build
  depends_on "srt"

  on_macos do
    # Screen capture (ScreenCaptureKit) needs macOS 12.3 or later.
    depends_on macos: :monterey
  end

  on_linux do
    # libavcodec (libx264 + AAC) is the Linux encoder; macOS uses VideoToolbox.
    depends_on "ffmpeg"
  end

  def install
    ENV["CGO_ENABLED"] = "1"
    commit = build.head? ? Utils.git_short_head : "release"
    ldflags = %W[
      -s -w
      -X main.version=#{version}
      -X main.commit=#{commit}
    ]
    system "go", "build", *std_go_args(ldflags:), "./cmd/livecap"

    # Man pages and completions come from the binary itself (cobra), so they
    # always match its commands and flags.
    system bin/"livecap", "man", buildpath/"man1"
    man1.install Dir[buildpath/"man1/*.1"]
    generate_completions_from_executable(bin/"livecap", "completion")
  end

  test do
    assert_match version.to_s, shell_output("#{bin}/livecap --version")
    # A 2 s recording of the built-in test source: capture clock, encoder,
    # muxer and segment writer all run, with no camera, microphone or
    # permission prompt (listing devices can prompt on macOS).
    system bin/"livecap", "stream", "--video", "test", "--audio", "test",
           "--record", testpath/"rec", "--duration", "2s", "--quiet"
    files = Dir[testpath/"rec/livecap-*.mp4"]
    assert_equal 1, files.length
    assert_operator File.size(files.first), :>, 10_000
  end
end
