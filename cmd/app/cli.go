package main

import (
	"fmt"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// newRootCmd builds the command tree: serve (the default), migrate, seed,
// routes, graph, version.
func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "app",
		Short:         "FastTrack reference service",
		Long:          "The FastTrack reference service. Configuration comes from the environment (DATABASE_URL, HTTP_ADDR, …).",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	serve := newServeCmd()
	root.RunE = serve.RunE
	root.AddCommand(serve, newMigrateCmd(), newSeedCmd(), newRoutesCmd(), newGraphCmd(), newVersionCmd())
	return root
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the build's version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintln(cmd.OutOrStdout(), buildVersion())
			return err
		},
	}
}

// buildVersion describes the binary from its embedded build information.
func buildVersion() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "fasttrack (unknown build)"
	}
	v := "fasttrack " + info.Main.Version
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" {
			v += " " + s.Value
		}
	}
	return v + " " + info.GoVersion
}
