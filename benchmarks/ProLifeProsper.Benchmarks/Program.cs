using BenchmarkDotNet.Running;

// dotnet run -c Release --project benchmarks/ProLifeProsper.Benchmarks -- --filter '*'               (full runs)
// dotnet run -c Release --project benchmarks/ProLifeProsper.Benchmarks -- --filter '*' --job short   (quick)
BenchmarkSwitcher.FromAssembly(typeof(ProLifeProsper.Benchmarks.HotPathBenchmarks).Assembly).Run(args);
