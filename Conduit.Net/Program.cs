using Conduit.Net.Cli;

return await CommandLine.RunAsync(args);
