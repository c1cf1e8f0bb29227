from aggregator.cli import main

# Guarded: parser processes (multiprocessing's forkserver) import the main module again.
if __name__ == "__main__":
    main()
