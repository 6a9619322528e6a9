.PHONY: build test run crds format clean

build:
	dotnet build ComfyOperator.sln

test:
	bash scripts/test.sh

run:
	dotnet run --project src/Router

format:
	dotnet format ComfyOperator.sln

clean:
	dotnet clean ComfyOperator.sln

crds:
	dotnet run --project src/Operator -- generate crds --out config/crds
