from tui.launch import main

if __name__ == "__main__":  # parse workers (spawned) import this module again as __mp_main__
    main()
